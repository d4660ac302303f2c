import type { GatewayConfig } from '../config/load.js';
import type { Hash32 } from '../routing/ring.js';
import type { BytesDigest, TenantKeyer } from '../hash.js';
import { IdempotencyCheck } from './phases/idempotency.js';
import { RateLimiting, type LimitPhase } from './phases/limit.js';
import { RedisRateLimiting } from './phases/redis-limit.js';
import type { SlidingWindowScript } from '../redis/rate-limit-script.js';
import type { RedisOutage } from '../redis/outage.js';
import type { LimiterTable } from '../shm/limiter-table.js';
import type { LocalBatches } from './local-batches.js';
import type { IdempotencyStore } from './idempotency-store.js';
import type { RequestRecorder } from '../metrics/request-recorder.js';
import type { ZoneCrossings } from '../metrics/zone-crossings.js';
import { compileRoutes } from '../routing/route-table.js';
import type { NodeNumbering } from '../shm/node-numbering.js';
import type { NodeTable } from '../shm/node-table.js';
import { attachSharedRing } from '../shm/ring-buffer.js';
import type { TenantTable } from '../shm/tenant-table.js';
import type { BreakerTable } from '../shm/breaker-table.js';
import type { RetryTable } from '../shm/retry-table.js';
import { Retrier } from './phases/retry.js';
import { CrashingForwarder } from './fault-injection.js';
import { Admission } from './phases/admit.js';
import type { Finisher } from './phases/finish.js';
import { Forwarder } from './phases/forward.js';
import { Selection } from './phases/select.js';
import { GATEWAY_ROUTE_LABELS, RequestRunner } from './request-runner.js';
import { compileRoutePlans } from './route-plans.js';
import type { RequestObserver } from './request-observer.js';
import type { UpstreamPools } from './upstream-pools.js';
import { LimitAddresses } from './limit-address.js';
import { trustedProxies, type TrustCheck } from './forwarded-headers.js';
import type { RequestTracing } from '../tracing/request-tracing.js';

/** What lives as long as the thread, whatever config it runs. */
export interface ThreadState {
  readonly lane: number;
  readonly hash32: Hash32;
  /** Seeded for this process: the tenant, limiter and in-flight tables' keys. */
  readonly keyer: TenantKeyer;
  /** Alike on every instance: Idempotency-Keys, which Redis keeps for them all. */
  readonly idempotencyKeyer: TenantKeyer;
  readonly digest: BytesDigest;
  readonly idempotency: IdempotencyStore;
  readonly limiter: LimiterTable;
  readonly tenants: TenantTable;
  readonly nodes: NodeTable;
  readonly breakers: BreakerTable;
  readonly retries: RetryTable;
  readonly pools: UpstreamPools;
  readonly recorder: RequestRecorder;
  readonly crossings: ZoneCrossings;
  /** The access log (and tracing), or null when off. */
  readonly observer: RequestObserver | null;
  /** One for the thread: requests of an old config finish through it after a reload too. */
  readonly finisher: Finisher;
  /** The thread's multiplexed calls awaiting their answer's head. */
  readonly batches: LocalBatches;
  /** The thread's Redis connection's rate-limit script, in redis mode; null otherwise. */
  readonly redisLimits: SlidingWindowScript | null;
  readonly redisOutage: RedisOutage | null;
  /** The thread's span hooks when tracing is on (loaded only then); null otherwise. */
  readonly tracing: RequestTracing | null;
}

/**
 * The request path for one config: its routes and plans compiled, its phases built, everything a
 * request reads resolved here, once, rather than per request. A reload composes a new one and the
 * acceptor swaps it in between requests; requests already running keep their plan. The thread's
 * pools follow the config: those it no longer names retire.
 */
export function composeRunner(config: GatewayConfig, rings: Readonly<Record<string, SharedArrayBuffer>>, numbering: NodeNumbering, thread: ThreadState): RequestRunner {
  const { settings } = config;
  const routes = compileRoutes(config.routes);
  const plans = compileRoutePlans(config, routes, {
    pools: thread.pools.forConfig(config),
    nodes: thread.nodes,
    numbering,
    rings: new Map(Object.entries(rings).map(([name, buffer]) => [name, attachSharedRing(buffer)])),
    recorder: thread.recorder,
    crossings: thread.crossings,
    breakers: thread.breakers,
    accessLogged: settings.accessLog !== 'off',
    keyer: thread.keyer,
  });
  const { finisher } = thread;
  const selection = new Selection(settings, thread.hash32, thread.tenants, thread.nodes, thread.lane);
  const retrier = new Retrier(selection, finisher, thread.nodes, thread.retries, thread.lane, thread.tracing);
  // GATEWAY_TRUSTED_PROXIES, read by admission (X-Real-IP and the like), forwarding and limits by address.
  const trusts = trustedProxies(settings.trustedProxies);
  return new RequestRunner(
    {
      admission: new Admission(settings, routes, plans, thread.tenants, thread.keyer, trusts),
      limit: limitPhase(config, thread, trusts),
      idempotency: new IdempotencyCheck(settings, thread.idempotency, thread.idempotencyKeyer, thread.digest, finisher),
      selection,
      forwarder: settings.faultInjection
        ? new CrashingForwarder(settings, finisher, retrier, thread.tracing, trusts)
        : new Forwarder(settings, finisher, retrier, thread.tracing, trusts),
      finisher,
    },
    thread.batches,
    thread.recorder.slot(GATEWAY_ROUTE_LABELS[0]),
    thread.recorder.slot(GATEWAY_ROUTE_LABELS[1]),
  );
}

/** Local mode's limiter, or in redis mode Redis's with it as the fallback while Redis is out of reach. */
function limitPhase(config: GatewayConfig, thread: ThreadState, trusts: TrustCheck | null): LimitPhase {
  const local = new RateLimiting(thread.limiter, thread.keyer, thread.recorder, new LimitAddresses(trusts));
  if (thread.redisLimits === null || thread.redisOutage === null) return local;
  return new RedisRateLimiting(config.settings, thread.redisLimits, local, thread.recorder, thread.redisOutage, thread.finisher);
}
