import { LATENCY_BUCKETS_SECONDS } from './definitions.js';

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** Upper bounds of the multiplex batch-size buckets. */
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256] as const;
export const BUCKETS = LATENCY_BUCKETS_SECONDS.length;

/**
 * An acceptor's per-route counters as copies of its typed arrays (request-recorder.ts has the
 * layout of each): what a thread posts at a scrape. Copies cost a memcpy and post as one block
 * each. The coordinator sums the threads' arrays by route (sumRouteCounts) and writes the sum's
 * series as text itself (route-text.ts): one series per route and bucket is 150,000 with 10,000
 * routes, too many to make as objects on a thread that serves requests, or to merge through
 * prom-client's generic label hashing.
 */
export interface RouteCounts {
  readonly labels: readonly string[];
  readonly statusCounts: Float64Array;
  readonly bucketCounts: Float64Array;
  readonly latencySum: Float64Array;
  readonly latencyCount: Float64Array;
  readonly headBytes: Float64Array;
  readonly rateLimited: Float64Array;
  readonly multiplexed: Float64Array;
  readonly saved: Float64Array;
  readonly batchSizes: Float64Array;
  readonly batchSum: Float64Array;
}

type CountArray = Exclude<keyof RouteCounts, 'labels'>;

/** Each array's values per route, in route order. */
const WIDTHS: Readonly<Record<CountArray, number>> = {
  statusCounts: STATUS_CLASSES.length,
  bucketCounts: BUCKETS + 1,
  latencySum: 1,
  latencyCount: 1,
  headBytes: 2,
  rateLimited: 1,
  multiplexed: 1,
  saved: 1,
  batchSizes: BATCH_BUCKETS.length + 1,
  batchSum: 1,
};
const COUNT_ARRAYS = Object.keys(WIDTHS) as CountArray[];

/**
 * Coordinator: several threads' (or retired threads') counts as one, summed by route label, labels
 * in order of first appearance. A label a thread lists twice is summed too, as its two series would be.
 */
export function sumRouteCounts(list: readonly RouteCounts[]): RouteCounts {
  const rows = new Map<string, number>();
  const labels: string[] = [];
  for (const counts of list) {
    for (const label of counts.labels) {
      if (!rows.has(label)) rows.set(label, labels.push(label) - 1);
    }
  }
  const sum = { labels } as Record<CountArray, Float64Array> & { labels: string[] };
  for (const name of COUNT_ARRAYS) sum[name] = new Float64Array(labels.length * WIDTHS[name]);
  for (const counts of list) {
    counts.labels.forEach((label, r) => {
      const row = rows.get(label)!;
      for (const name of COUNT_ARRAYS) {
        const width = WIDTHS[name];
        const from = counts[name];
        const to = sum[name];
        for (let i = 0; i < width; i++) to[row * width + i]! += from[r * width + i]!;
      }
    });
  }
  return sum;
}
