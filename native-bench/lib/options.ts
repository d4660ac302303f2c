import type { CpuList } from './proc.js';

/** Where each party runs. Pinned: the proxy alone on CPU 0; upstream and load generator on CPU 1. */
export interface Layout {
  readonly name: 'pinned' | 'unpinned';
  readonly proxy: CpuList;
  readonly upstream: CpuList;
  readonly load: CpuList;
  /** Scenarios beyond get-1k run in this layout too. */
  readonly allScenarios: boolean;
}

/** Where every bench puts its parties on a 2-core machine: the proxy alone on CPU 0; upstream and load on CPU 1. */
export const PINNED = { proxy: '0', upstream: '1', load: '1' } as const;

export const LAYOUTS: readonly Layout[] = [
  { name: 'pinned', ...PINNED, allScenarios: true },
  { name: 'unpinned', proxy: null, upstream: null, load: null, allScenarios: false },
];

export interface BenchOptions {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly layouts: readonly string[] | null;
  readonly scenarios: readonly string[] | null;
  readonly candidates: readonly string[] | null;
  readonly autocannon: boolean;
  readonly paced: boolean;
  /** The paced runs' rate: each proxy's own half (the issue's measure), or one rate for all (BENCH_PACED_RATE). */
  readonly pacedRate: PacedRate;
  readonly micro: boolean;
  /** A git revision whose build runs as the ringgate-base-* candidates; null without them. */
  readonly baseline: string | null;
  /**
   * ringgate runs with every feature configured and none triggered (BENCH_RINGGATE_FEATURES=all,
   * the default; `none`: a plain cluster, for a baseline too old to parse them).
   */
  readonly everyFeature: boolean;
  /** ringgate runs with active health checks and a zone (BENCH_RINGGATE_NODE_STATE=1). */
  readonly nodeState: boolean;
  /** ringgate's cluster has this maxInFlight (BENCH_RINGGATE_MAX_IN_FLIGHT; 0: none). */
  readonly maxInFlight: number;
  /** ringgate's route has a rate limit of this many requests per second (BENCH_RINGGATE_RATE_LIMIT; 0: none). */
  readonly rateLimit: number;
  /** Adds ringgate-redis-* candidates: the same limit counted in Redis (BENCH_RINGGATE_REDIS=1; needs a rate limit). */
  readonly redisRateLimit: boolean;
  /** Adds ringgate-trace1-* and ringgate-trace100-* candidates: spans of 1% and of all requests to an OTLP sink (BENCH_RINGGATE_TRACING=1). */
  readonly tracing: boolean;
  /** Adds ringgate-log-* candidates: the access log on, a line per request (BENCH_RINGGATE_ACCESS_LOG=1). */
  readonly accessLog: boolean;
}

/**
 * `own`: each proxy at half its own saturated rate. `slowest`: every proxy at the lowest of those
 * halves, so that each is compared with direct at one rate. A number: every proxy at that rate.
 */
export type PacedRate = 'own' | 'slowest' | number;

function pacedRateFromEnv(env: NodeJS.ProcessEnv): PacedRate {
  const raw = env.BENCH_PACED_RATE;
  if (raw === undefined || raw === '' || raw === 'own') return 'own';
  if (raw === 'slowest') return 'slowest';
  const rate = Number(raw);
  if (Number.isInteger(rate) && rate >= 1) return rate;
  throw new Error(`BENCH_PACED_RATE: expected own, slowest or an integer ≥ 1 (requests a second), got ${JSON.stringify(raw)}`);
}

/** The rate each paced candidate is measured at, from their saturated rates (in their order). */
export function pacedTargets(maxRps: readonly number[], rate: PacedRate): number[] {
  if (rate === 'own') return maxRps.map((rps) => rps / 2);
  const common = rate === 'slowest' ? Math.min(...maxRps) / 2 : rate;
  return maxRps.map(() => common);
}

/** How the paced table's rate column was chosen, for its header. */
export function pacedRateRule(rate: PacedRate): string {
  if (rate === 'own') return 'half its max';
  return rate === 'slowest' ? "one for all: half the slowest's max" : 'one for all: BENCH_PACED_RATE';
}

/** An integer knob: unset or empty is `fallback`; anything else must be an integer ≥ `min`. */
export function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name}: expected an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

function list(env: NodeJS.ProcessEnv, name: string): string[] | null {
  const raw = env[name];
  return raw === undefined || raw === '' ? null : raw.split(',').map((s) => s.trim());
}

function featuresFromEnv(env: NodeJS.ProcessEnv): boolean {
  const raw = env.BENCH_RINGGATE_FEATURES;
  if (raw === undefined || raw === '' || raw === 'all') return true;
  if (raw === 'none') return false;
  throw new Error(`BENCH_RINGGATE_FEATURES: expected all or none, got ${JSON.stringify(raw)}`);
}

/** The bench's knobs (README table in native-bench/README.md). */
export function benchOptions(env: NodeJS.ProcessEnv): BenchOptions {
  return {
    seconds: intFromEnv(env, 'BENCH_SECONDS', 5, 1),
    warmupSeconds: intFromEnv(env, 'BENCH_WARMUP_SECONDS', 2, 0),
    rounds: intFromEnv(env, 'BENCH_ROUNDS', 2, 1),
    connections: intFromEnv(env, 'BENCH_CONNECTIONS', 64, 1),
    layouts: list(env, 'BENCH_LAYOUTS'),
    scenarios: list(env, 'BENCH_SCENARIOS'),
    candidates: list(env, 'BENCH_CANDIDATES'),
    autocannon: env.BENCH_AUTOCANNON !== '0',
    paced: env.BENCH_PACED !== '0',
    pacedRate: pacedRateFromEnv(env),
    micro: env.BENCH_MICRO !== '0',
    everyFeature: featuresFromEnv(env),
    nodeState: env.BENCH_RINGGATE_NODE_STATE === '1',
    maxInFlight: intFromEnv(env, 'BENCH_RINGGATE_MAX_IN_FLIGHT', 0, 0),
    rateLimit: intFromEnv(env, 'BENCH_RINGGATE_RATE_LIMIT', 0, 0),
    redisRateLimit: env.BENCH_RINGGATE_REDIS === '1',
    tracing: env.BENCH_RINGGATE_TRACING === '1',
    accessLog: env.BENCH_RINGGATE_ACCESS_LOG === '1',
    baseline: env.BENCH_RINGGATE_BASELINE || null,
  };
}
