import { z } from 'zod';
import { MACHINE_CPUS, MAX_THREADS } from './cpu-quota.js';
import { addressRangeSchema, headerNameSchema, listenHostSchema, originSchema, portSchema, positiveMs, zoneNameSchema } from './primitives.js';
import { breakerSchema, healthCheckSchema } from './resilience-schema.js';
import { checkLimitHeaders, checkRouteClashes, routeSchema } from './route-schema.js';
import { SHARED_STATE_ENV_VARS, sharedStateSettings } from './shared-state-schema.js';
import { ACCESS_LOG_ENV_VARS, accessLogSettings } from './access-log-schema.js';
import { UPSTREAM_NAME_ENV_VARS, upstreamNameSettings } from './upstream-names-schema.js';
import { upstreamTlsSchema } from './upstream-tls-schema.js';
import { ZONE_ENV_VARS, zoneSettings } from './zone-schema.js';

/**
 * uWebSockets.js 20.30 parses a head of any size only when it arrives in one read, and closes
 * without an answer one over 4096 bytes that takes several (README, "uWebSockets.js 20.30 limits").
 * Even on loopback, heads from about 64 KiB arrive in more than one read: a limit above 32 KiB
 * could never be answered with a 431.
 */
export const UWS_HEADER_CEILING_BYTES = 32 * 1024;

const DEFAULT_TENANT_HEADER = 'x-tenant-id';

/** HTTP drops a header value's outer spaces, and a value cannot carry controls: such a token could never match. */
const VISIBLE_ASCII = 'must be visible ASCII, without spaces or control characters (it is sent as `Authorization: Bearer <token>`)';

/** Process-wide knobs; each has a GATEWAY_* env var (see ENV_VARS) and may also sit in the file. */
export const settingsSchema = z.strictObject({
  port: portSchema.default(8080),
  host: listenHostSchema.default('0.0.0.0'),
  threads: z.number().int().min(1).max(MAX_THREADS).default(MACHINE_CPUS.threads),
  adminPort: portSchema.default(9090),
  adminHost: listenHostSchema.default('127.0.0.1'),
  /** Bearer token the admin write endpoints require; unset: writes only while the admin server listens on loopback. */
  adminToken: z.string().min(16, 'must be at least 16 characters').regex(/^[\x21-\x7e]*$/, VISIBLE_ASCII).optional(),
  ...zoneSettings,
  /** How often the coordinator evaluates every node's circuit breaker from the shared counts. */
  breakerTickMs: z.number().int().min(10).max(10_000).default(100),
  /** After a first control-plane push, routing falls back to least-connections when none arrives for this long. */
  controlTtlMs: z.number().int().min(100).max(3_600_000).default(15_000),
  drainMs: z.number().int().min(0).max(600_000).default(10_000),
  allowUwsFallback: z.boolean().default(false),
  /** V8 young generation of each acceptor thread; V8 sizes each semi-space at a third of it. */
  acceptorYoungGenerationMb: z.number().int().min(3).max(1024).default(6),
  /** How full (%) an acceptor's young generation is scavenged while the thread has no request open (0: never). */
  acceptorIdleScavengePercent: z.number().int().min(0).max(95).default(35),
  /** Old generation size below which V8 runs no full GC in an acceptor thread (0: V8's own sizing). */
  acceptorOldGenerationFloorMb: z.number().int().min(0).max(4096).default(64),
  /** Profiling mode: one acceptor on the main thread (threads is then 1). */
  inlineAcceptor: z.boolean().default(false),
  /** Tests only: requests under /_ringgate/fault/crash-thread/ crash the acceptor thread holding them. */
  faultInjection: z.boolean().default(false),
  tenantHeader: headerNameSchema.default(DEFAULT_TENANT_HEADER),
  /** Client addresses (or CIDR ranges) whose X-Forwarded-For, X-Forwarded-Proto and Forwarded are kept; anyone else's are replaced. */
  trustedProxies: z.array(addressRangeSchema).max(256).default([]),
  upstreamTimeoutMs: positiveMs.default(30_000),
  upstreamConnectTimeoutMs: positiveMs.default(5_000),
  upstreamPoolSize: z.number().int().min(1).max(10_000).default(128),
  /** Which client talks to plain-http nodes: the gateway's own HTTP/1.1 client, or undici's Pool (https nodes always use undici). */
  upstreamClient: z.enum(['h1', 'undici']).default('h1'),
  ...upstreamNameSettings,
  maxHeaderBytes: z.number().int().min(1024).max(UWS_HEADER_CEILING_BYTES).default(16 * 1024),
  maxBodyBytes: z.number().int().min(0).default(100 * 1024 * 1024),
  bufferBodyBytes: z.number().int().min(0).max(16 * 1024 * 1024).default(64 * 1024),
  maxTenants: z.number().int().min(1).max(1_000_000).default(10_000),
  /** Rate-limit keys counted at once, all threads together (the shared limiter table); beyond it the least recently used go. */
  rateLimitKeys: z.number().int().min(8).max(10_000_000).default(65_536),
  ...sharedStateSettings,
  /** Multiplexed calls other threads can wait on at once (the shared in-flight table). */
  multiplexEntries: z.number().int().min(8).max(1_000_000).default(1024),
  /** Largest answer waiting threads get from the arena; a larger one sends them to the node on their own. */
  multiplexMaxResponseBytes: z.number().int().min(256).max(16 * 1024 * 1024).default(65_536),
  /** How long a completed request's response is replayed to a duplicate with its Idempotency-Key. */
  idempotencyTtlMs: positiveMs.default(24 * 3600 * 1000),
  /** Idempotency keys kept at once, all threads together; beyond it the least recently used done key goes. */
  idempotencyEntries: z.number().int().min(8).max(1_000_000).default(4096),
  /** Largest response kept for replay (status, headers and body); a larger one is not kept. */
  idempotencyMaxResponseBytes: z.number().int().min(256).max(1024 * 1024).default(8192),
  /** Nodes the shared node table has room for, counting every node a reload ever added. */
  maxNodes: z.number().int().min(1).max(65_536).default(1024),
  tenantTtlMs: positiveMs.default(10 * 60 * 1000),
  scoreWindowMs: z.number().int().min(50).max(60_000).default(1000),
  /** `plain`: every key on its ring owner, no shard factor, no load bound (the baseline and kill switch). */
  routingMode: z.enum(['adaptive', 'plain']).default('adaptive'),
  /** A tenant whose smoothed score reaches this (ms) is hot: it gets a shard factor above 1. */
  hotScore: z.number().min(0).max(1_000_000).default(100),
  /** Score added per unit of 5xx rate: a tenant whose every answer is a 5xx scores this much more (ms). */
  errorPenaltyMs: z.number().min(0).max(1_000_000).default(1000),
  /** `time`: each window moves a score (an idle one towards 0); `count`: each window moves it by its request count. */
  decayMode: z.enum(['time', 'count']).default('time'),
  /** With decayMode `count`: the requests that move a score as much as one window does in `time` mode. */
  decayRequests: z.number().int().min(1).max(1_000_000).default(100),
  /** No node takes a request that would lift it above this × its cluster's mean in-flight load. */
  balanceFactor: z.number().min(1).max(100).default(1.25),
  /** Tenants with score and shard-factor gauges on /metrics, the highest scores first. */
  metricsTopTenants: z.number().int().min(0).max(1000).default(20),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...accessLogSettings,
});

export const nodeSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 chars of [A-Za-z0-9._:-]'),
  url: originSchema,
  az: zoneNameSchema.default('default'),
  // vnodes = ceil(weight × 150): 10 bounds a node to 1,500 points on the ring.
  weight: z.number().gt(0).max(10).default(1),
});

const clusterSchema = z.strictObject({
  nodes: z.array(nodeSchema).max(1024).default([]),
  /** No active checks when absent: passive health (5xx rate, connection failures) still applies. */
  healthCheck: healthCheckSchema.optional(),
  /**
   * Envoy's panic threshold: when fewer than this share of the cluster's nodes are healthy, route
   * over all of them rather than pile everything on the few (0 turns it off).
   */
  panicThreshold: z.number().min(0).max(1).default(0.5),
  /**
   * Cache locality measured from a response header the nodes set (e.g. `x-cache: HIT`): the share
   * of answers whose value starts with `hit` (case-insensitive). A control-plane push overrides it.
   */
  cacheHeader: z
    .strictObject({
      name: z
        .string()
        .regex(/^[A-Za-z-]+$/, 'must be a header name of letters and "-"')
        .transform((name) => name.toLowerCase()),
      hit: z.string().min(1).default('HIT'),
    })
    .optional(),
  /**
   * Requests a node may hold at once, across all threads; selection passes a full node by, and
   * when every usable one is full the answer is 503 ERR_UPSTREAM_SATURATED. Unset: no limit. The
   * node's pool in each thread then opens at most this many connections, so it never queues.
   */
  maxInFlight: z.number().int().min(1).max(100_000).optional(),
  /** How its https:// nodes are reached: CA bundle, client certificate (mTLS), SNI, verification. */
  tls: upstreamTlsSchema.optional(),
  breaker: breakerSchema.prefault({}),
  /** Envoy's retry budget: retries in flight stay under percent% of the cluster's requests in flight, or minRetries. */
  retryBudget: z
    .strictObject({
      percent: z.number().min(0).max(100).default(20),
      minRetries: z.number().int().min(0).max(100_000).default(3),
    })
    .prefault({}),
  /** A node that comes back (or is added) ramps from 20% to its full weight over this long, in steps (0: at once). */
  slowStartMs: z.number().int().min(0).max(3_600_000).default(90_000),
  /** AZ labels of built-in demo backends the gateway starts and appends to `nodes`. */
  demoBackends: z.array(z.string().min(1).max(64)).max(16).default([]),
});

export const fileSchema = z
  .strictObject({
    gateway: settingsSchema.partial().default({}),
    routes: z.array(routeSchema).min(1),
    // __proto__ is refused before this (config/load.ts).
    clusters: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/), clusterSchema),
  })
  .superRefine((file, ctx) => {
    file.routes.forEach((route, i) => {
      if (!Object.hasOwn(file.clusters, route.cluster)) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'cluster'], message: 'names no cluster', input: route.cluster });
      }
    });
    checkRouteClashes(file.routes, ctx);
    checkLimitHeaders(file.routes, file.gateway.tenantHeader ?? DEFAULT_TENANT_HEADER, (file.gateway.trustedProxies ?? []).length > 0, ctx);
    for (const [name, cluster] of Object.entries(file.clusters)) {
      const ids = new Set<string>();
      cluster.nodes.forEach((node, i) => {
        if (ids.has(node.id)) {
          ctx.addIssue({ code: 'custom', path: ['clusters', name, 'nodes', i, 'id'], message: 'duplicate node id', input: node.id });
        }
        ids.add(node.id);
      });
    }
  });

export type Settings = z.output<typeof settingsSchema>;
export type FileConfig = z.output<typeof fileSchema>;
export type RouteConfig = FileConfig['routes'][number];
export type ClusterConfig = FileConfig['clusters'][string];
export type NodeConfig = ClusterConfig['nodes'][number];
export type HashOn = RouteConfig['hashOn'];
export type HealthCheckConfig = NonNullable<ClusterConfig['healthCheck']>;
export type BreakerConfig = ClusterConfig['breaker'];
export type RetriesConfig = RouteConfig['retries'];

type SettingKind = 'int' | 'number' | 'bool' | 'string' | 'pairs' | 'list';

/** The env var of each setting: the one table the README's env section mirrors (test/config checks it). */
export const ENV_VARS: Readonly<Record<string, { key: keyof Settings; kind: SettingKind }>> = {
  GATEWAY_PORT: { key: 'port', kind: 'int' },
  GATEWAY_HOST: { key: 'host', kind: 'string' },
  GATEWAY_THREADS: { key: 'threads', kind: 'int' },
  GATEWAY_ADMIN_PORT: { key: 'adminPort', kind: 'int' },
  GATEWAY_ADMIN_HOST: { key: 'adminHost', kind: 'string' },
  GATEWAY_ADMIN_TOKEN: { key: 'adminToken', kind: 'string' },
  GATEWAY_CONTROL_TTL_MS: { key: 'controlTtlMs', kind: 'int' },
  GATEWAY_BREAKER_TICK_MS: { key: 'breakerTickMs', kind: 'int' },
  ...ZONE_ENV_VARS,
  GATEWAY_DRAIN_MS: { key: 'drainMs', kind: 'int' },
  GATEWAY_ALLOW_UWS_FALLBACK: { key: 'allowUwsFallback', kind: 'bool' },
  GATEWAY_INLINE_ACCEPTOR: { key: 'inlineAcceptor', kind: 'bool' },
  GATEWAY_FAULT_INJECTION: { key: 'faultInjection', kind: 'bool' },
  GATEWAY_ACCEPTOR_YOUNG_GENERATION_MB: { key: 'acceptorYoungGenerationMb', kind: 'int' },
  GATEWAY_ACCEPTOR_IDLE_SCAVENGE_PERCENT: { key: 'acceptorIdleScavengePercent', kind: 'int' },
  GATEWAY_ACCEPTOR_OLD_GENERATION_FLOOR_MB: { key: 'acceptorOldGenerationFloorMb', kind: 'int' },
  GATEWAY_TENANT_HEADER: { key: 'tenantHeader', kind: 'string' },
  GATEWAY_TRUSTED_PROXIES: { key: 'trustedProxies', kind: 'list' },
  GATEWAY_UPSTREAM_TIMEOUT_MS: { key: 'upstreamTimeoutMs', kind: 'int' },
  GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS: { key: 'upstreamConnectTimeoutMs', kind: 'int' },
  GATEWAY_UPSTREAM_POOL_SIZE: { key: 'upstreamPoolSize', kind: 'int' },
  GATEWAY_UPSTREAM_CLIENT: { key: 'upstreamClient', kind: 'string' },
  ...UPSTREAM_NAME_ENV_VARS,
  GATEWAY_MAX_HEADER_BYTES: { key: 'maxHeaderBytes', kind: 'int' },
  GATEWAY_MAX_BODY_BYTES: { key: 'maxBodyBytes', kind: 'int' },
  GATEWAY_BUFFER_BODY_BYTES: { key: 'bufferBodyBytes', kind: 'int' },
  GATEWAY_MAX_TENANTS: { key: 'maxTenants', kind: 'int' },
  GATEWAY_RATE_LIMIT_KEYS: { key: 'rateLimitKeys', kind: 'int' },
  ...SHARED_STATE_ENV_VARS,
  GATEWAY_MULTIPLEX_ENTRIES: { key: 'multiplexEntries', kind: 'int' },
  GATEWAY_MULTIPLEX_MAX_RESPONSE_BYTES: { key: 'multiplexMaxResponseBytes', kind: 'int' },
  GATEWAY_IDEMPOTENCY_TTL_MS: { key: 'idempotencyTtlMs', kind: 'int' },
  GATEWAY_IDEMPOTENCY_ENTRIES: { key: 'idempotencyEntries', kind: 'int' },
  GATEWAY_IDEMPOTENCY_MAX_RESPONSE_BYTES: { key: 'idempotencyMaxResponseBytes', kind: 'int' },
  GATEWAY_MAX_NODES: { key: 'maxNodes', kind: 'int' },
  GATEWAY_TENANT_TTL_MS: { key: 'tenantTtlMs', kind: 'int' },
  GATEWAY_SCORE_WINDOW_MS: { key: 'scoreWindowMs', kind: 'int' },
  GATEWAY_ROUTING_MODE: { key: 'routingMode', kind: 'string' },
  GATEWAY_HOT_SCORE: { key: 'hotScore', kind: 'number' },
  GATEWAY_ERROR_PENALTY_MS: { key: 'errorPenaltyMs', kind: 'number' },
  GATEWAY_DECAY_MODE: { key: 'decayMode', kind: 'string' },
  GATEWAY_DECAY_REQUESTS: { key: 'decayRequests', kind: 'int' },
  GATEWAY_BALANCE_FACTOR: { key: 'balanceFactor', kind: 'number' },
  GATEWAY_METRICS_TOP_TENANTS: { key: 'metricsTopTenants', kind: 'int' },
  GATEWAY_LOG_LEVEL: { key: 'logLevel', kind: 'string' },
  ...ACCESS_LOG_ENV_VARS,
};

/** Read by the loader only: which file to load. Not a setting, so not in the schema. */
export const CONFIG_PATH_ENV = 'GATEWAY_CONFIG';
