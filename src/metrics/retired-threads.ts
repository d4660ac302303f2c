import { AggregatorRegistry } from 'prom-client';
import type { MetricsSnapshot } from '../thread-protocol.js';

/** Retired snapshots kept apart before they are merged into one. */
const MERGE_PAST = 4;

/**
 * What the acceptor threads counted, kept so that the sums the coordinator serves never go back:
 * Prometheus reads any drop of a counter as a reset. A thread that misses a scrape (busy past its
 * timeout) reads as it last answered. One that exits leaves its summed counters and histograms as
 * they last read, added to every later scrape (its successor counts from zero); its gauges go with
 * it. What it counted after its last scrape is lost: a thread that died cannot be asked.
 */
export class ThreadCounts {
  readonly #last = new Map<number, MetricsSnapshot>();
  #retired: MetricsSnapshot[] = [];

  /** Thread `thread` answered a scrape with `snapshot`. */
  answered(thread: number, snapshot: MetricsSnapshot): void {
    this.#last.set(thread, snapshot);
  }

  /**
   * Thread `thread`, dying, sent what it counted: its families replace those of its last answer,
   * whose others (its runtime metrics) stay as they last read.
   */
  lastWords(thread: number, families: MetricsSnapshot): void {
    const names = new Set(families.map((family) => family.name));
    const kept = (this.#last.get(thread) ?? []).filter((family) => !names.has(family.name));
    this.#last.set(thread, [...kept, ...families]);
  }

  /** What thread `thread` last answered, for a scrape it missed; null if it never did. */
  lastOf(thread: number): MetricsSnapshot | null {
    return this.#last.get(thread) ?? null;
  }

  /** Thread `thread` exited: its counts so far stay in the sums. */
  exited(thread: number): void {
    const last = this.#last.get(thread);
    this.#last.delete(thread);
    if (last === undefined) return;
    const counts = last.filter((family) => (family.type === 'counter' || family.type === 'histogram') && family.aggregator === 'sum');
    if (counts.length > 0) this.#retired.push(counts);
  }

  /** The counts of every thread that exited, as snapshots to add to a scrape's. */
  async retired(): Promise<MetricsSnapshot[]> {
    // A thread that dies again and again must not grow this without end.
    if (this.#retired.length > MERGE_PAST) {
      this.#retired = [(await AggregatorRegistry.aggregate(this.#retired).getMetricsAsJSON()) as unknown as MetricsSnapshot];
    }
    return this.#retired;
  }
}
