import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from './config/load.js';
import { unknownEnvNames } from './config/env-vars.js';
import { ENV_MEANINGS, OTEL_ENV_MEANINGS } from './config/env-meanings.js';
import { CONFIG_PATH_ENV, ENV_VARS, settingsSchema } from './config/schema.js';
import { OTEL_ENV_NAMES, TRACING_DEFAULTS } from './config/tracing-schema.js';

/** What the command line asks for. */
export type Command =
  | { readonly kind: 'run' | 'check'; readonly configPath?: string }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'usage-error'; readonly message: string };

/** `ringgate [--config FILE]`, `ringgate check [--config FILE]`, `--help`, `--version`. */
export function parseArgs(argv: readonly string[]): Command {
  const args = [...argv];
  const kind = args[0] === 'check' ? 'check' : 'run';
  if (kind === 'check') args.shift();
  let configPath: string | undefined;
  while (args.length > 0) {
    const arg = args.shift()!;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-v') return { kind: 'version' };
    if (arg === '--config') {
      if (args.length === 0) return { kind: 'usage-error', message: '--config needs a FILE' };
      configPath = args.shift();
    } else return { kind: 'usage-error', message: `unknown argument ${JSON.stringify(arg)}` };
  }
  return configPath === undefined ? { kind } : { kind, configPath };
}

/** One row of the env table: what the README shows and --help prints (markdown). */
export interface EnvRow {
  readonly name: string;
  readonly defaultText: string;
  readonly meaning: string;
}

/** The env table, defaults taken from the schema itself, so neither the README nor --help can drift from it. */
export function envTable(): EnvRow[] {
  const defaults = settingsSchema.parse({}) as Record<string, unknown>;
  // In the README's order; a setting without a meaning there is still listed (and the README test fails).
  const names = [...new Set([...Object.keys(ENV_MEANINGS), CONFIG_PATH_ENV, ...Object.keys(ENV_VARS)])];
  return names.map((name) => {
    const key = ENV_VARS[name]?.key;
    // GATEWAY_CONFIG is no setting; threads is the one default that depends on the machine.
    const defaultText = key === undefined ? '`config/default.json` (demo backends)' : key === 'threads' ? 'CPUs the process may use' : shown(defaults[key]);
    return { name, defaultText, meaning: ENV_MEANINGS[name] ?? '' };
  });
}

/** The README's OpenTelemetry table: the OTEL_* vars the config reads, defaults from tracing-schema.ts. */
export function otelEnvTable(): EnvRow[] {
  const defaults: Readonly<Record<string, string>> = TRACING_DEFAULTS;
  return OTEL_ENV_NAMES.map((name) => ({ name, defaultText: shown(defaults[name]), meaning: OTEL_ENV_MEANINGS[name] ?? '' }));
}

function shown(value: unknown): string {
  if (value === undefined) return 'unset';
  if (typeof value === 'object' && value !== null && Object.keys(value).length === 0) return 'none';
  if (typeof value === 'boolean') return value ? '`1`' : '`0`';
  return `\`${String(value)}\``;
}

/** Markdown as a terminal shows it: no backticks, links as their text. */
function plain(markdown: string): string {
  return markdown.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1').replaceAll('`', '');
}

export function helpText(): string {
  const rows = (table: EnvRow[]): string =>
    table.map(({ name, defaultText, meaning }) => `  ${name} (default: ${plain(defaultText)})\n      ${plain(meaning)}`).join('\n');
  return `ringgate ${version()}: multi-tenant L7 HTTP gateway

usage:
  ringgate [--config FILE]         start the gateway
  ringgate check [--config FILE]   validate the config and environment as start-up would; exit 0 or 1
  ringgate --version               print the version
  ringgate --help                  this text

--config FILE overrides ${CONFIG_PATH_ENV}. Settings come from these env vars; each overrides the
file's "gateway" section:
${rows(envTable())}

Tracing (OpenTelemetry; off unless an OTLP endpoint is set) reads these:
${rows(otelEnvTable())}
`;
}

/** The package's version, from its package.json (one level above dist/ and src/). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * `ringgate check`: the config and environment loaded as start-up loads them (nginx -t). Its
 * output, and whether it passed: "ok" and a one-line summary, or every error with its field.
 */
export function checkConfig(env: NodeJS.ProcessEnv, configPath: string | undefined): { ok: boolean; text: string } {
  try {
    const config = loadConfig(env, configPath);
    const clusters = Object.values(config.clusters);
    const nodes = clusters.reduce((sum, c) => sum + c.nodes.length, 0);
    const demo = clusters.reduce((sum, c) => sum + c.demoBackends.length, 0);
    const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
    const summary = [plural(config.routes.length, 'route'), plural(clusters.length, 'cluster'), plural(nodes, 'node')].join(', ');
    const unknownEnv = unknownEnvNames(env).map((name) => `warning: ${name} is no setting: ignored\n`);
    return { ok: true, text: `ok: ${summary}${demo > 0 ? ` (+${plural(demo, 'demo backend')})` : ''} in ${config.source}\n${unknownEnv.join('')}` };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, text: `ringgate: ${err.code}: ${err.message}\n` };
  }
}
