import { ConfigError } from './config-error.js';
import { CONFIG_PATH_ENV, ENV_VARS, type Settings } from './schema.js';

// The GATEWAY_* env vars read as settings; config/load.ts lays them over the file's gateway section.

/**
 * GATEWAY_* names in the environment that are no setting: a misspelt one (GATEWAY_MAX_BODY_BYTE)
 * would leave its setting at the default without a word. Warned of, not refused: the prefix is
 * not ringgate's alone.
 */
export function unknownEnvNames(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('GATEWAY_') && name !== CONFIG_PATH_ENV && !(name in ENV_VARS))
    .sort();
}

/** The env vars' values, converted; each one that cannot be, as an error line (its setting then comes from the file). */
export function envOverrides(env: NodeJS.ProcessEnv): { overrides: Record<string, unknown>; errors: string[] } {
  const overrides: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [name, { key, kind }] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    try {
      overrides[key] = convert(name, value, kind);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      errors.push(err.message);
    }
  }
  return { overrides, errors };
}

function convert(name: string, value: string, kind: 'int' | 'number' | 'bool' | 'string' | 'pairs' | 'list'): unknown {
  if (kind === 'string') return value;
  // `a,b,c`, as a JSON array of strings would give it.
  if (kind === 'list') return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (kind === 'pairs') {
    // `key=number,key=number`, as a JSON object would give it.
    if (!/^[^=,\s]+=-?\d+(\.\d+)?(,[^=,\s]+=-?\d+(\.\d+)?)*$/.test(value)) {
      throw new ConfigError(`${name} = ${JSON.stringify(value)}: expected name=number[,name=number…]`);
    }
    const pairs = value.split(',').map((pair) => [pair.slice(0, pair.indexOf('=')), Number(pair.slice(pair.indexOf('=') + 1))] as const);
    // A JSON object could not say it twice either: the first would be lost without a word.
    const repeated = pairs.find(([key], i) => pairs.findIndex(([other]) => other === key) !== i);
    if (repeated !== undefined) throw new ConfigError(`${name} = ${JSON.stringify(value)}: ${JSON.stringify(repeated[0])} given twice`);
    return Object.fromEntries(pairs);
  }
  if (kind === 'bool') {
    if (value === '1' || value === 'true') return true;
    if (value === '0' || value === 'false') return false;
    throw new ConfigError(`${name} = ${JSON.stringify(value)}: expected 1, 0, true or false`);
  }
  if (kind === 'number') {
    if (!/^-?(\d+\.?\d*|\.\d+)$/.test(value)) throw new ConfigError(`${name} = ${JSON.stringify(value)}: expected a number`);
    return Number(value);
  }
  if (!/^-?\d+$/.test(value)) throw new ConfigError(`${name} = ${JSON.stringify(value)}: expected a whole number`);
  return Number(value);
}

/** The env var that sets setting `key`, if any. */
export function envNameOf(key: string): string | undefined {
  return Object.entries(ENV_VARS).find(([, spec]) => spec.key === key)?.[0];
}

/** How an error names setting `key`: its env var when the environment set it, else its place in the file. */
export function settingName(key: keyof Settings, overrides: Record<string, unknown>): string {
  return key in overrides ? envNameOf(key)! : `gateway.${key}`;
}
