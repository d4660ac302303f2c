import { LATENCY_BUCKETS_SECONDS } from './definitions.js';

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** Upper bounds of the multiplex batch-size buckets. */
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256] as const;
export const BUCKETS = LATENCY_BUCKETS_SECONDS.length;

/**
 * An acceptor's per-route counters as copies of its typed arrays (RouteArrays): what a thread
 * posts at a scrape. Copies cost a memcpy and post as one block each. The coordinator sums the
 * threads' arrays by route (sumRouteCounts) and writes the sum's series as text itself
 * (route-text.ts): one series per route and bucket is 150,000 with 10,000 routes, too many to make
 * as objects on a thread that serves requests, or to merge through prom-client's generic label
 * hashing.
 */
export interface RouteCounts extends RouteArrays {
  readonly labels: readonly string[];
}

/** Per-route counters, each WIDTHS[name] values a route, in route order. */
export interface RouteArrays {
  /** [route × status class] */
  readonly statusCounts: Float64Array;
  /** [route × (latency bucket, then +Inf)], non-cumulative */
  readonly bucketCounts: Float64Array;
  readonly latencySum: Float64Array;
  readonly latencyCount: Float64Array;
  /** [route × (received, forwarded)], counted on routes with header compaction */
  readonly headBytes: Float64Array;
  readonly rateLimited: Float64Array;
  /** Followers that joined a call. */
  readonly multiplexed: Float64Array;
  /** Followers answered through the call they joined. */
  readonly saved: Float64Array;
  /** [route × (BATCH_BUCKETS, then +Inf)], non-cumulative */
  readonly batchSizes: Float64Array;
  readonly batchSum: Float64Array;
}

type CountArray = keyof RouteArrays;

/** Each array's values per route. */
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

/** Arrays for `routes` routes, zero but for `from`'s counts (those of its routes, the first ones). */
export function routeArrays(routes: number, from?: RouteArrays): RouteArrays {
  const arrays = {} as Record<CountArray, Float64Array>;
  for (const name of COUNT_ARRAYS) {
    arrays[name] = new Float64Array(routes * WIDTHS[name]);
    if (from !== undefined) arrays[name].set(from[name]);
  }
  return arrays;
}

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
  const sum = { labels, ...routeArrays(labels.length) };
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
