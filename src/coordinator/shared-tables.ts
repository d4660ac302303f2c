import type { Settings } from '../config/schema.js';
import { newTableKeySeed } from '../hash.js';
import { createBreakerTable, type BreakerTable } from '../shm/breaker-table.js';
import { releaseLocksOf, tableSeconds } from '../shm/bucket-table.js';
import { createIdempotencyTable, releaseIdempotencyLane, type IdempotencyTable } from '../shm/idempotency-table.js';
import { abandonStale, createInflightTable, type InflightTable } from '../shm/inflight-table.js';
import { createLimiterTable, type LimiterTable } from '../shm/limiter-table.js';
import { createNodeTable, releaseLane, type NodeTable } from '../shm/node-table.js';
import { createRetryTable, releaseRetryLane, type RetryTable } from '../shm/retry-table.js';
import { createTenantTable, releaseClaimsOf, type TenantTable } from '../shm/tenant-table.js';
import type { AcceptorInit } from '../thread-protocol.js';

/** The shared memory every acceptor thread maps, made once by the coordinator and kept across reloads. */
export interface SharedTables {
  readonly tenants: TenantTable;
  readonly nodes: NodeTable;
  readonly breakers: BreakerTable;
  readonly retries: RetryTable;
  readonly limiter: LimiterTable;
  readonly inflight: InflightTable;
  readonly idempotency: IdempotencyTable;
  /** What every thread seeds the tenant, limiter and in-flight tables' key hash with. */
  readonly keySeed: bigint;
  /** When an abandoned call's entry may be reclaimed from waiters that never read it: as long as a waiter waits. */
  reclaimAt(): number;
}

export function createSharedTables(settings: Readonly<Settings>): SharedTables {
  return {
    tenants: createTenantTable(settings.maxTenants),
    // Clusters need a slot each too; a config has at most as many as it may have nodes.
    nodes: createNodeTable(settings.maxNodes, settings.maxNodes, settings.threads),
    breakers: createBreakerTable(settings.maxNodes),
    retries: createRetryTable(settings.maxNodes, settings.threads),
    inflight: createInflightTable(settings.multiplexEntries, settings.multiplexMaxResponseBytes),
    // Their pages are only touched once keys are stored: an instance without rate limits or
    // idempotent routes pays no memory for them.
    limiter: createLimiterTable(settings.rateLimitKeys),
    idempotency: createIdempotencyTable(settings.idempotencyEntries, settings.idempotencyMaxResponseBytes),
    keySeed: newTableKeySeed(),
    reclaimAt: () => tableSeconds(Date.now()) + Math.ceil(settings.upstreamTimeoutMs / 1000) + 2,
  };
}

/** The buffers a starting thread is given, and the seed of their keys. */
export function sharedBuffers(tables: SharedTables): Pick<AcceptorInit, 'tenants' | 'nodes' | 'breakers' | 'retries' | 'idempotency' | 'inflight' | 'limiter' | 'keySeed'> {
  return {
    tenants: tables.tenants.buffer,
    nodes: tables.nodes.buffer,
    breakers: tables.breakers.buffer,
    retries: tables.retries.buffer,
    idempotency: tables.idempotency.buffer,
    inflight: tables.inflight.buffer,
    limiter: tables.limiter.buffer,
    keySeed: tables.keySeed,
  };
}

/**
 * A thread that died never finished its requests: its shares of retries, keyed writes and node
 * in-flight counts are taken back, and requests of other threads waiting on its multiplexed calls
 * go to the node on their own. Returns the node in-flight requests released.
 */
export function releaseThreadShares(tables: SharedTables, threadIndex: number): number {
  // First: a bucket it died holding would stop everything below (and every thread) for good.
  for (const table of [tables.idempotency, tables.limiter, tables.inflight]) releaseLocksOf(table, threadIndex);
  releaseRetryLane(tables.retries, threadIndex);
  releaseClaimsOf(tables.tenants, threadIndex);
  releaseIdempotencyLane(tables.idempotency, threadIndex);
  abandonStale(tables.inflight, threadIndex, tableSeconds(Date.now()), tables.reclaimAt());
  return releaseLane(tables.nodes, threadIndex);
}

/** Each window: a call stuck past its deadline leaves no request of another thread waiting on it. */
export function abandonStuckCalls(tables: SharedTables): void {
  abandonStale(tables.inflight, -1, tableSeconds(Date.now()), tables.reclaimAt());
}
