import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GLIBC_MALLOC_TUNABLES } from '../../src/coordinator/malloc-tuning.js';
import { baselineName } from './ab.js';
import { startGroup, waitForHttp, type CpuList, type Started } from './proc.js';
import { haproxyConf, nginxProxyConf, startNginx } from './upstream.js';

export interface CandidateContext {
  readonly dir: string;
  readonly port: number;
  readonly upstreamPorts: readonly number[];
  readonly cpus: CpuList;
  /** The run's redis-server, when a candidate needs one; null otherwise. */
  readonly redisUrl: string | null;
  /** The run's OTLP sink (base endpoint), when a candidate traces; null otherwise. */
  readonly otlpUrl: string | null;
}

export interface Candidate {
  readonly name: string;
  /** Counts its rate limit in Redis: the run starts a redis-server for it. */
  readonly needsRedis?: boolean;
  /** Exports spans: the run starts an OTLP sink for it. */
  readonly needsOtlpSink?: boolean;
  /** Starts it and resolves once it relays a request; `null` for direct (nothing to start). */
  start(ctx: CandidateContext): Promise<Started | null>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_HEADERS = { 'x-tenant-id': 'bench-ready' };

const direct: Candidate = { name: 'direct', start: async () => null };

const nginx: Candidate = {
  name: 'nginx',
  async start({ dir, port, upstreamPorts, cpus }) {
    const proxyDir = join(dir, 'nginx-proxy');
    const started = startNginx('nginx', proxyDir, nginxProxyConf(proxyDir, port, upstreamPorts[0]!), cpus);
    await waitForHttp(`http://127.0.0.1:${port}/`, started);
    return started;
  },
};

const haproxy: Candidate = {
  name: 'haproxy',
  async start({ dir, port, upstreamPorts, cpus }) {
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, haproxyConf(port, upstreamPorts[0]!));
    const started = startGroup('haproxy', 'haproxy', ['-db', '-f', file], cpus);
    await waitForHttp(`http://127.0.0.1:${port}/`, started);
    return started;
  },
};

/** A Node proxy from candidates/, run as `node --import tsx FILE PORT UPSTREAM_URL` in `env`. */
function nodeScript(name: string, file: string, env: NodeJS.ProcessEnv = process.env): Candidate {
  return {
    name,
    async start({ port, upstreamPorts, cpus }) {
      const args = ['--import', 'tsx', join(ROOT, 'native-bench/candidates', file), String(port), `http://127.0.0.1:${upstreamPorts[0]}`];
      const started = startGroup(name, process.execPath, args, cpus, env);
      await waitForHttp(`http://127.0.0.1:${port}/`, started);
      return started;
    },
  };
}

const fastify = nodeScript('fastify-http-proxy', 'fastify-http-proxy.ts');

/** Bare uWS + undici dispatch(): the floor ringgate's pipeline is measured against. */
const uwsUndiciMinimal = nodeScript('uws-undici-minimal', 'uws-undici-minimal.ts', tunedEnv());

/** Node state features the current build runs with under BENCH_RINGGATE_NODE_STATE=1 (older builds cannot parse them). */
const NODE_STATE_CLUSTER = { healthCheck: { path: '/', intervalMs: 1000, jitterMs: 200, timeoutMs: 500 } };
const NODE_STATE_ENV = { GATEWAY_ZONE: 'az-0' };

/**
 * What a ringgate config turns on beyond a plain cluster. `everyFeature` (the bench's default,
 * BENCH_RINGGATE_FEATURES=all) is the gateway as a user runs it: node state, breakers and retries
 * (on by default), cache locality, multiplexing, idempotency keys, a node in-flight limit and a
 * rate limit, all configured on the benchmarked route and none triggered by the load: the limits
 * are far above it, the load sends no Idempotency-Key, and no two reads in flight are identical
 * (scenarios.ts gives each request of a cycle its own query).
 */
export interface ConfigFeatures {
  readonly nodeState?: boolean;
  readonly maxInFlight?: number;
  readonly rateLimit?: number;
  readonly everyFeature?: boolean;
}

/** Far above what one machine's load reaches: configured, never refusing. */
const UNREACHED_MAX_IN_FLIGHT = 1024;
const UNREACHED_RATE_LIMIT = 1_000_000_000;

/**
 * A ringgate config routing everything to one cluster whose nodes are the upstream's ports; with
 * `nodeState`, active health checks run on it (node n0 is in the gateway's zone, az-0); with a
 * `maxInFlight`, saturation does (circuit breakers and retries are on by default).
 */
export function writeRinggateConfig(path: string, upstreamPorts: readonly number[], features: ConfigFeatures = {}): string {
  const every = features.everyFeature === true;
  const nodeState = every || features.nodeState === true;
  const maxInFlight = features.maxInFlight || (every ? UNREACHED_MAX_IN_FLIGHT : 0);
  const rateLimit = features.rateLimit || (every ? UNREACHED_RATE_LIMIT : 0);
  const nodes = upstreamPorts.map((p, i) => ({ id: `n${i}`, url: `http://127.0.0.1:${p}`, az: `az-${i}` }));
  const cluster = {
    nodes,
    ...(nodeState ? NODE_STATE_CLUSTER : {}),
    ...(maxInFlight > 0 ? { maxInFlight } : {}),
    ...(every ? { cacheHeader: { name: 'x-cache' } } : {}),
  };
  const route = {
    prefix: '/',
    cluster: 'bench',
    ...(rateLimit > 0 ? { rateLimit: { requests: rateLimit, windowMs: 1000 } } : {}),
    ...(every ? { multiplex: true, idempotency: 'optional' } : {}),
  };
  writeFileSync(path, JSON.stringify({ routes: [route], clusters: { bench: cluster } }));
  return path;
}

/** The environment a config's features need besides the file (the zone of node state). */
export function featureEnv(features: ConfigFeatures): Record<string, string> {
  return features.everyFeature === true || features.nodeState === true ? NODE_STATE_ENV : {};
}

/**
 * The bench's environment with glibc's malloc tuned as the image tunes it (a GLIBC_TUNABLES of the
 * bench's own wins): ringgate's, and the floor's, which stands for ringgate's architecture and so
 * runs as ringgate does.
 */
function tunedEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GLIBC_TUNABLES: process.env.GLIBC_TUNABLES || GLIBC_MALLOC_TUNABLES };
}

/**
 * The environment ringgate runs with in the bench and under the profiler: one port, quiet logs, no
 * access log (it is on by default; BENCH_RINGGATE_ACCESS_LOG measures it apart, and builds older
 * than it ignore the variable), glibc's malloc tuned.
 */
export function ringgateEnv(configPath: string, port: number, extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  return {
    ...tunedEnv(),
    GATEWAY_CONFIG: configPath,
    GATEWAY_PORT: String(port),
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_ADMIN_PORT: '0',
    GATEWAY_LOG_LEVEL: 'warn',
    GATEWAY_ACCESS_LOG: 'off',
    ...extra,
  };
}

/** Sampling percentages of the tracing candidates (BENCH_RINGGATE_TRACING=1): ringgate-trace<P>-<N>t. */
export const TRACE_PERCENTS = [1, 100] as const;

/** What a ringgate candidate runs with beyond a plain cluster (the BENCH_RINGGATE_* knobs). */
interface RinggateFeatures extends ConfigFeatures {
  /** Its rate limit counts in Redis. */
  readonly redis?: boolean;
  /** Spans to the run's OTLP sink, this percentage of requests sampled; null: no tracing. */
  readonly tracePercent?: number | null;
  /** The access log on (its default): a line per request into the bench's pipe. */
  readonly accessLog?: boolean;
}

/** ringgate's dist/main.js from the build in `root`, one cluster whose nodes are the upstream's ports. */
function ringgate(name: string, root: string, threads: number, features: RinggateFeatures = {}): Candidate {
  const { redis = false, tracePercent = null, accessLog = false } = features;
  return {
    name,
    needsRedis: redis,
    needsOtlpSink: tracePercent !== null,
    async start({ dir, port, upstreamPorts, cpus, redisUrl, otlpUrl }) {
      const configPath = writeRinggateConfig(join(dir, `${name}.json`), upstreamPorts, features);
      const redisEnv: Record<string, string> = redis ? { GATEWAY_RATE_LIMIT_MODE: 'redis', GATEWAY_REDIS_URL: redisUrl! } : {};
      // The load sends no traceparent: every request is a new trace, sampled at the ratio. The
      // batch processor keeps its defaults (5 s, or at once on 512 spans), as a deployment would.
      const traceEnv: Record<string, string> =
        tracePercent === null
          ? {}
          : { OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl!, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(tracePercent / 100) };
      const logEnv: Record<string, string> = accessLog ? { GATEWAY_ACCESS_LOG: 'on' } : {};
      const env = ringgateEnv(configPath, port, { GATEWAY_THREADS: String(threads), ...featureEnv(features), ...redisEnv, ...traceEnv, ...logEnv });
      const started = startGroup(name, process.execPath, [join(root, 'dist/main.js')], cpus, env);
      await waitForHttp(`http://127.0.0.1:${port}/`, started, READY_HEADERS);
      return started;
    },
  };
}

/** Which ringgate candidates a run has, and what they run with. */
export interface RinggateSet {
  /** The build ringgate-base-Nt runs, or null for none. */
  readonly baselineRoot: string | null;
  /** The config features of ringgate-Nt and of its baseline (both get the same config). */
  readonly features: ConfigFeatures;
  /** Adds ringgate-redis-Nt: its rate limit counted in Redis. */
  readonly redisRateLimit: boolean;
  /** Adds ringgate-trace1-Nt and ringgate-trace100-Nt. */
  readonly tracing: boolean;
  /** Adds ringgate-log-Nt. */
  readonly accessLog: boolean;
}

/**
 * Every candidate. With a baseline build, ringgate-base-Nt runs it with the same config and
 * environment right before ringgate-Nt, so each round measures the two back to back (a baseline
 * too old to parse the features needs BENCH_RINGGATE_FEATURES=none). Then, in this order:
 * ringgate-trace1-Nt and ringgate-trace100-Nt exporting spans of 1% and of every request,
 * ringgate-log-Nt with the access log on, ringgate-redis-Nt with its rate limit in Redis.
 */
export function allCandidates(set: RinggateSet): Candidate[] {
  const { baselineRoot, features } = set;
  const ringgates = [1, 2].flatMap((threads) => {
    const current = ringgate(`ringgate-${threads}t`, ROOT, threads, features);
    const withRedis = set.redisRateLimit ? [ringgate(`ringgate-redis-${threads}t`, ROOT, threads, { ...features, redis: true })] : [];
    const traced = set.tracing ? TRACE_PERCENTS.map((percent) => ringgate(`ringgate-trace${percent}-${threads}t`, ROOT, threads, { ...features, tracePercent: percent })) : [];
    const logged = set.accessLog ? [ringgate(`ringgate-log-${threads}t`, ROOT, threads, { ...features, accessLog: true })] : [];
    return [...(baselineRoot === null ? [] : [ringgate(baselineName(threads), baselineRoot, threads, features)]), current, ...traced, ...logged, ...withRedis];
  });
  return [direct, nginx, haproxy, fastify, uwsUndiciMinimal, ...ringgates];
}
