import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { ConfigError } from './config-error.js';
import { describeJsonError } from './json-error.js';
import { firstDuplicateKey } from './duplicate-keys.js';
import { withoutPassword } from './redact.js';
import { envNameOf, envOverrides, settingName } from './env-vars.js';
import {
  CONFIG_PATH_ENV,
  fileSchema,
  settingsSchema,
  type ClusterConfig,
  type RouteConfig,
  type Settings,
} from './schema.js';
import { checkPorts } from './port-clash.js';
import { checkTableSizes } from './table-sizes.js';
import { readTracingEnv, type TracingSettings } from './tracing-schema.js';

/** The validated, frozen configuration every other module receives (as plain data, across threads too). */
export interface GatewayConfig {
  readonly source: string;
  readonly settings: Readonly<Settings>;
  readonly routes: readonly RouteConfig[];
  readonly clusters: Readonly<Record<string, ClusterConfig>>;
  /** OpenTelemetry tracing (the OTEL_* vars); null when off. */
  readonly tracing: TracingSettings | null;
  /** GLIBC_TUNABLES as the process got it (glibc reads it at exec; ringgate only checks it): null when unset. */
  readonly glibcTunables: string | null;
}

export { ConfigError } from './config-error.js';

/** config/default.json ships with the package: routes everything to the built-in demo backends. */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../config/default.json', import.meta.url));

/**
 * The one place that reads the environment and the config file. Env vars override the file's
 * `gateway` section. Every error names the field (env var or file path) and the bad value.
 */
export function loadConfig(env: NodeJS.ProcessEnv, explicitPath?: string): GatewayConfig {
  // An empty env var counts as unset, as for every setting.
  const source = explicitPath ?? (env[CONFIG_PATH_ENV] || DEFAULT_CONFIG_PATH);
  const raw = readJson(source);
  const { overrides, errors } = envOverrides(env);
  const { tracing, errors: tracingErrors } = readTracingEnv(env);
  errors.push(...tracingErrors);
  if (isObject(raw)) {
    // Not merged with the env's settings silently: every setting would fall back to its default.
    if (raw.gateway !== undefined && !isObject(raw.gateway)) errors.push(`gateway = ${JSON.stringify(raw.gateway)}: expected an object`);
    raw.gateway = { ...(isObject(raw.gateway) ? raw.gateway : {}), ...overrides };
  }

  // zod's record drops a cluster of this name without a word (in a plain object the key would set
  // its prototype); other names objects inherit (constructor, toString) are clusters like any.
  if (isObject(raw) && isObject(raw.clusters) && Object.hasOwn(raw.clusters, '__proto__')) errors.push('clusters.__proto__: is no name a cluster can have');
  // Every error at once (a bad env var does not hide the file's): `ringgate check` lists them all.
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) errors.push(...describeIssues(parsed.error, raw, overrides));
  if (errors.length > 0 || !parsed.success) throw new ConfigError(`invalid config (${source}):\n  ${errors.join('\n  ')}`);
  const parsedSettings = settingsSchema.parse(parsed.data.gateway);
  // The inline acceptor is the only one; say so wherever the thread count is shown.
  const settings = parsedSettings.inlineAcceptor ? { ...parsedSettings, threads: 1 } : parsedSettings;
  const clusters = Object.values(parsed.data.clusters);
  const nodes = clusters.reduce((sum, cluster) => sum + cluster.nodes.length + cluster.demoBackends.length, 0);
  // The node table holds as many clusters as nodes.
  if (nodes > settings.maxNodes || clusters.length > settings.maxNodes) {
    const counted = nodes > settings.maxNodes ? `${nodes} nodes` : `${clusters.length} clusters`;
    throw new ConfigError(`invalid config (${source}):\n  ${settingName('maxNodes', overrides)} = ${settings.maxNodes}: the config has ${counted}`);
  }
  checkRedisSettings(settings, source, overrides);
  checkPorts(settings, source, overrides);
  checkTableSizes(settings, source, overrides);
  const glibcTunables = env.GLIBC_TUNABLES || null;
  return deepFreeze({ source, settings, routes: parsed.data.routes, clusters: parsed.data.clusters, tracing, glibcTunables });
}

/** A redis mode needs a URL to reach Redis; a CA file must be readable now, not at the first connection. */
function checkRedisSettings(settings: Settings, source: string, overrides: Record<string, unknown>): void {
  const fieldOf = (key: keyof Settings): string => settingName(key, overrides);
  const redisMode = settings.rateLimitMode === 'redis' ? 'rateLimitMode' : settings.sharedState === 'redis' ? 'sharedState' : null;
  if (redisMode !== null && settings.redisUrl === undefined) {
    // Missing: either place would do, so both are named.
    throw new ConfigError(`invalid config (${source}):\n  ${envNameOf('redisUrl')} (gateway.redisUrl) = missing: ${fieldOf(redisMode)} is "redis"`);
  }
  if (settings.redisTlsCaFile !== undefined) {
    if (settings.redisUrl !== undefined && !settings.redisUrl.startsWith('rediss:')) {
      throw new ConfigError(`invalid config (${source}):\n  ${fieldOf('redisTlsCaFile')} = ${JSON.stringify(settings.redisTlsCaFile)}: needs a rediss:// ${fieldOf('redisUrl')} (TLS)`);
    }
    try {
      readFileSync(settings.redisTlsCaFile);
    } catch (err) {
      throw new ConfigError(`invalid config (${source}):\n  ${fieldOf('redisTlsCaFile')} = ${JSON.stringify(settings.redisTlsCaFile)}: ${(err as Error).message}`);
    }
  }
}

/**
 * Settings a reload may change: the ones the acceptors' request path reads (it is recomposed on a
 * reload). The rest (ports, threads, table sizes, timers of the coordinator's services) need a restart.
 */
export const LIVE_SETTINGS = ['tenantHeader', 'maxHeaderBytes', 'maxBodyBytes', 'bufferBodyBytes', 'balanceFactor'] as const;

/** `next` with `running`'s settings but for LIVE_SETTINGS; and the settings whose change awaits a restart. */
export function reloadedConfig(next: GatewayConfig, running: GatewayConfig): { config: GatewayConfig; needRestart: string[] } {
  const live = new Set<string>(LIVE_SETTINGS);
  const settings: Record<string, unknown> = { ...running.settings };
  const needRestart: string[] = [];
  // Both configs' keys: an optional setting (zone, adminToken, redisUrl…) the file no longer sets changed too.
  const keys = new Set([...Object.keys(next.settings), ...Object.keys(running.settings)]);
  for (const key of keys) {
    const value = next.settings[key as keyof Settings];
    if (live.has(key)) settings[key] = value;
    else if (JSON.stringify(value) !== JSON.stringify(running.settings[key as keyof Settings])) needRestart.push(key);
  }
  // Each thread set its tracer up at start.
  if (JSON.stringify(next.tracing) !== JSON.stringify(running.tracing)) needRestart.push('tracing');
  return { config: deepFreeze({ ...next, settings: settings as Settings, tracing: running.tracing }), needRestart };
}

/** A copy of `config` with extra nodes appended to a cluster (the built-in demo backends, a push's nodes); an id the cluster has is an error. */
export function withExtraNodes(
  config: GatewayConfig,
  cluster: string,
  nodes: ClusterConfig['nodes'],
): GatewayConfig {
  // Own keys only: a push naming "constructor" or "__proto__" must not find Object.prototype's.
  const existing = Object.hasOwn(config.clusters, cluster) ? config.clusters[cluster] : undefined;
  if (!existing) throw new ConfigError(`clusters.${cluster}: no such cluster`);
  const ids = new Set(existing.nodes.map((node) => node.id));
  for (const node of nodes) {
    if (ids.has(node.id)) throw new ConfigError(`clusters.${cluster}.nodes: ${JSON.stringify(node.id)} is there twice`);
    ids.add(node.id);
  }
  return deepFreeze({
    ...config,
    clusters: { ...config.clusters, [cluster]: { ...existing, nodes: [...existing.nodes, ...nodes] } },
  });
}

/** A copy of `config` without the nodes `ids` of a cluster (a push's removals); each must be there. */
export function withoutNodes(config: GatewayConfig, cluster: string, ids: ReadonlySet<string>): GatewayConfig {
  const existing = Object.hasOwn(config.clusters, cluster) ? config.clusters[cluster] : undefined;
  if (!existing) throw new ConfigError(`clusters.${cluster}: no such cluster`);
  const nodes = existing.nodes.filter((node) => !ids.has(node.id));
  if (existing.nodes.length - nodes.length !== ids.size) throw new ConfigError(`clusters.${cluster}.nodes: ${JSON.stringify([...ids])} not all there`);
  return deepFreeze({ ...config, clusters: { ...config.clusters, [cluster]: { ...existing, nodes } } });
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${CONFIG_PATH_ENV}: cannot read ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${CONFIG_PATH_ENV}: ${JSON.stringify(path)} is not valid JSON: ${describeJsonError(text, (err as Error).message)}`);
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== null) throw new ConfigError(`invalid config (${path}):\n  ${duplicate}: given twice in one object (JSON keeps only the last)`);
  return parsed;
}

function describeIssues(error: z.ZodError, raw: unknown, overrides: Record<string, unknown>): string[] {
  const line = (path: string[], message: string): string => {
    const value = valueAt(raw, path);
    const shown = value === undefined ? 'missing' : JSON.stringify(redacted(path, value));
    const envName = path[0] === 'gateway' && path[1] !== undefined && path[1] in overrides ? envNameOf(path[1]) : undefined;
    // A var of name=value pairs (GATEWAY_ZONE_COSTS): which name, as `GATEWAY_ZONE_COSTS[b]`; a list's bad item shows itself.
    const field = envName === undefined ? formatPath(path) : path.length > 2 && !/^\d+$/.test(path[2]!) ? `${envName}[${path.slice(2).join('.')}]` : envName;
    return `${field} = ${shown}: ${message}`;
  };
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    // The unknown key itself, not the whole object around it (which may hold the admin token).
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => line([...path, key], 'unknown key'));
    return [line(path, issue.message)];
  });
}

/** A value as an error may show it: no secret (the admin token, a Redis password), however deep. */
function redacted(path: string[], value: unknown): unknown {
  const key = path.at(-1);
  if (path[0] === 'gateway' && key === 'adminToken' && typeof value === 'string') return `*** (${value.length} characters)`;
  if (path[0] === 'gateway' && key === 'redisUrl' && typeof value === 'string') return withoutPassword(value);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redacted([...path, k], v)]));
  return value;
}

function formatPath(path: string[]): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function valueAt(root: unknown, path: string[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (!isObject(cur) && !Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
