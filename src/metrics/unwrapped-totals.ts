import type { CoordinatorReadings } from './coordinator-metrics.js';

/**
 * Running totals the threads count in Int32 words of shared memory wrap past 2^32 (read unsigned):
 * exported as read, a counter would fall back near 0, which Prometheus takes for a restart (and
 * rate() for a burst of 2^32). Each is followed here as a number that does not wrap: a reading
 * adds its unsigned difference from the last. Exact while each word is read at least once per
 * 2^32 counts: every scrape reads them all.
 */
export class UnwrappedTotals {
  readonly #seen = new Map<string, { raw: number; total: number }>();

  /** The total of the word named `key`, `raw` its value now (unsigned); a first reading is the total (words start at 0). */
  read(key: string, raw: number): number {
    const seen = this.#seen.get(key);
    if (seen === undefined) {
      this.#seen.set(key, { raw, total: raw });
      return raw;
    }
    seen.total += (raw - seen.raw) >>> 0;
    seen.raw = raw;
    return seen.total;
  }
}

/**
 * `readings` with the counters read from shared Int32 words unwrapped (a node's requests are
 * unwrapped by node-state.ts, as its slot's words start over for a new node). A retry table's
 * words are named by their slot: a cluster's counts are its slot's.
 */
export function unwrapSharedTotals(readings: CoordinatorReadings): CoordinatorReadings {
  const totals = new UnwrappedTotals();
  return {
    ...readings,
    idempotencyEvictions: () => totals.read('idempotency evictions', readings.idempotencyEvictions()),
    rateLimitEvictions: () => totals.read('rate limit evictions', readings.rateLimitEvictions()),
    multiplexShared: () => {
      const { joins, bytes } = readings.multiplexShared();
      return { joins: totals.read('multiplex joins', joins), bytes };
    },
    retries: () =>
      readings.retries().map((cluster) => ({
        ...cluster,
        exhausted: totals.read(`retries ${cluster.slot} exhausted`, cluster.exhausted),
        byReason: cluster.byReason.map(({ reason, retries }) => ({ reason, retries: totals.read(`retries ${cluster.slot} ${reason}`, retries) })),
      })),
  };
}
