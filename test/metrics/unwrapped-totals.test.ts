import { describe, expect, it } from 'vitest';
import { CoordinatorMetrics, type CoordinatorReadings } from '../../src/metrics/coordinator-metrics.js';
import { unwrapSharedTotals } from '../../src/metrics/unwrapped-totals.js';
import { RETRY_REASONS } from '../../src/resilience/retry-reasons.js';
import { createIdempotencyTable, EVICTIONS, idempotencyEvictions } from '../../src/shm/idempotency-table.js';
import { CLUSTER_WORDS, CLUSTERS_OFFSET, countRetry, createRetryTable, EXHAUSTED, readRetryCounters, RETRIES } from '../../src/shm/retry-table.js';

/** The value of `name`'s series whose labels include `labels`, in a scrape's text. */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(name) && !l.startsWith('#') && l.includes(labels));
  return Number(line!.split(' ').at(-1));
}

describe('shared counters in /metrics', () => {
  it('keep counting past the 2^32 at which their Int32 words wrap, never falling back', async () => {
    const retries = createRetryTable(2, 1);
    const idempotency = createIdempotencyTable(64, 1024);
    // Cluster c is in slot 1; its counts and the evictions start three short of the wrap.
    const nearWrap = (2 ** 32 - 3) | 0;
    const reason = RETRY_REASONS.indexOf('502');
    Atomics.store(retries.words, CLUSTERS_OFFSET + CLUSTER_WORDS + RETRIES + reason, nearWrap);
    Atomics.store(retries.words, CLUSTERS_OFFSET + CLUSTER_WORDS + EXHAUSTED, nearWrap);
    Atomics.store(idempotency.words, EVICTIONS, nearWrap);
    const readings = {
      breakers: () => [],
      breakerTransitions: () => new Map(),
      idempotencyEvictions: () => idempotencyEvictions(idempotency),
      rateLimitEvictions: () => 0,
      multiplexShared: () => ({ joins: 0, bytes: 0 }),
      retries: () => [{ cluster: 'c', slot: 1, inFlight: 0, ...readRetryCounters(retries, 1) }],
      runningThreads: () => 1,
      ringPoints: () => [],
      nodes: () => [],
      ringRebuilds: () => 0,
      reloads: () => ({ ok: 0, failed: 0 }),
      routingMode: () => 'ring',
      panicActivations: () => 0,
      liveTenants: () => 0,
      tenantEvictions: () => 0,
      rebalanceEvents: () => 0,
      topTenants: () => [],
    } satisfies CoordinatorReadings;
    const metrics = new CoordinatorMetrics(unwrapSharedTotals(readings));
    const scrape = async () => {
      const { body } = await metrics.render([]);
      return [
        sample(body, 'ringgate_retries_total', 'reason="502"'),
        sample(body, 'ringgate_retry_budget_exhausted_total', 'cluster="c"'),
        sample(body, 'ringgate_idempotency_evictions_total'),
      ];
    };
    expect(await scrape()).toEqual([2 ** 32 - 3, 2 ** 32 - 3, 2 ** 32 - 3]);
    // Five more of each: the words wrap to 2.
    for (let i = 0; i < 5; i++) {
      countRetry(retries, 1, reason);
      Atomics.add(retries.words, CLUSTERS_OFFSET + CLUSTER_WORDS + EXHAUSTED, 1);
      Atomics.add(idempotency.words, EVICTIONS, 1);
    }
    expect(readRetryCounters(retries, 1).exhausted).toBe(2);
    expect(await scrape()).toEqual([2 ** 32 + 2, 2 ** 32 + 2, 2 ** 32 + 2]);
    // A scrape with nothing new adds nothing.
    expect(await scrape()).toEqual([2 ** 32 + 2, 2 ** 32 + 2, 2 ** 32 + 2]);
  });
});
