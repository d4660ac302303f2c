import { AggregatorRegistry } from 'prom-client';
import type { MetricsSnapshot } from '../thread-protocol.js';
import { sumRouteCounts, type RouteCounts } from './route-counts.js';

/** What a thread answers a scrape with: its families, and its per-route counters (null from a thread that has none). */
export interface ThreadSnapshot {
  readonly metrics: MetricsSnapshot;
  readonly routes: RouteCounts | null;
}

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
  readonly #last = new Map<number, ThreadSnapshot>();
  #retired: MetricsSnapshot[] = [];
  /** Every exited thread's per-route counters, summed as they retire. */
  #retiredRoutes: RouteCounts | null = null;

  /** Thread `thread` answered a scrape with `snapshot`. */
  answered(thread: number, snapshot: ThreadSnapshot): void {
    this.#last.set(thread, snapshot);
  }

  /**
   * Thread `thread`, dying, sent what it counted: its families replace those of its last answer,
   * whose others (its runtime metrics) stay as they last read.
   */
  lastWords(thread: number, snapshot: ThreadSnapshot): void {
    const names = new Set(snapshot.metrics.map((family) => family.name));
    const last = this.#last.get(thread);
    const kept = (last?.metrics ?? []).filter((family) => !names.has(family.name));
    this.#last.set(thread, { metrics: [...kept, ...snapshot.metrics], routes: snapshot.routes ?? last?.routes ?? null });
  }

  /** What thread `thread` last answered, for a scrape it missed; null if it never did. */
  lastOf(thread: number): ThreadSnapshot | null {
    return this.#last.get(thread) ?? null;
  }

  /** Thread `thread` exited: its counts so far stay in the sums. */
  exited(thread: number): void {
    const last = this.#last.get(thread);
    this.#last.delete(thread);
    if (last === undefined) return;
    const counts = last.metrics.filter((family) => (family.type === 'counter' || family.type === 'histogram') && family.aggregator === 'sum');
    if (counts.length > 0) this.#retired.push(counts);
    if (last.routes !== null) this.#retiredRoutes = sumRouteCounts(this.#retiredRoutes === null ? [last.routes] : [this.#retiredRoutes, last.routes]);
  }

  /** The counts of every thread that exited, as snapshots to add to a scrape's. */
  async retired(): Promise<ThreadSnapshot[]> {
    // A thread that dies again and again must not grow this without end.
    if (this.#retired.length > MERGE_PAST) {
      this.#retired = [(await AggregatorRegistry.aggregate(this.#retired).getMetricsAsJSON()) as unknown as MetricsSnapshot];
    }
    const snapshots: ThreadSnapshot[] = this.#retired.map((metrics) => ({ metrics, routes: null }));
    return this.#retiredRoutes === null ? snapshots : [...snapshots, { metrics: [], routes: this.#retiredRoutes }];
  }
}
