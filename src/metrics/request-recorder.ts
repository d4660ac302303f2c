import { ERROR_CODES, type ErrorCode } from '../errors.js';
import type { MetricsSnapshot } from '../thread-protocol.js';
import type { RedisUse } from '../redis/outage.js';
import { family, LATENCY_BUCKETS_SECONDS } from './definitions.js';
import { BATCH_BUCKETS, BUCKETS, routeArrays, STATUS_CLASSES, type RouteArrays, type RouteCounts } from './route-counts.js';
const ERROR_INDEX = new Map<ErrorCode, number>(ERROR_CODES.map((code, i) => [code, i]));

/**
 * An acceptor's request metrics, counted in plain typed arrays (a few array writes per request).
 * prom-client's own label-hashing per increment costs more than the request budget allows, so the
 * thread exports copies of its per-route arrays (routeCounts), which the coordinator sums and
 * writes itself (route-text.ts), and its other families in prom-client's JSON shape (snapshot),
 * which the coordinator merges with prom-client's AggregatorRegistry.
 */
export class RequestRecorder {
  readonly #routeLabels: string[];
  /** Each label's slot: a reload looks up every route's, so a scan per route would be quadratic. */
  readonly #slots = new Map<string, number>();
  readonly #thread: string;
  /** Per route (route-counts.ts): grown, never shrunk, as routes come. */
  #counts: RouteArrays;
  readonly #errorCounts = new Float64Array(ERROR_CODES.length);
  #total = 0;
  #replays = 0;
  readonly #fallbacks = new Map<string, number>();
  readonly #redisErrors = new Map<RedisUse, number>();

  constructor(routeLabels: readonly string[], threadIndex: number) {
    this.#routeLabels = [...routeLabels];
    // The first slot of a label wins, as indexOf found it.
    for (let i = routeLabels.length - 1; i >= 0; i--) this.#slots.set(routeLabels[i]!, i);
    this.#thread = String(threadIndex);
    this.#counts = routeArrays(routeLabels.length);
  }

  /**
   * The slot of a route label, a new one when a reloaded config brings a route not seen before:
   * a route that stays keeps its counts (counters never go back), one that leaves keeps its last.
   */
  slot(label: string): number {
    const known = this.#slots.get(label);
    if (known !== undefined) return known;
    this.#routeLabels.push(label);
    const routes = this.#routeLabels.length;
    this.#slots.set(label, routes - 1);
    this.#counts = routeArrays(routes, this.#counts);
    return routes - 1;
  }

  record(routeIndex: number, status: number, seconds: number): void {
    this.#total++;
    const counts = this.#counts;
    const cls = Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1;
    counts.statusCounts[routeIndex * STATUS_CLASSES.length + cls]!++;
    let bucket = 0;
    while (bucket < BUCKETS && seconds > LATENCY_BUCKETS_SECONDS[bucket]!) bucket++;
    counts.bucketCounts[routeIndex * (BUCKETS + 1) + bucket]!++;
    counts.latencySum[routeIndex]! += seconds;
    counts.latencyCount[routeIndex]!++;
  }

  /** A request of a route with header compaction: its head's bytes as received, and as forwarded. */
  recordHeadBytes(routeIndex: number, received: number, forwarded: number): void {
    this.#counts.headBytes[routeIndex * 2]! += received;
    this.#counts.headBytes[routeIndex * 2 + 1]! += forwarded;
  }

  /** A request refused by its route's rate limit. */
  recordRateLimited(routeIndex: number): void {
    this.#counts.rateLimited[routeIndex]!++;
  }

  /** A read joined an identical one's call (multiplexing). */
  recordMultiplexed(routeIndex: number): void {
    this.#counts.multiplexed[routeIndex]!++;
  }

  /** A follower was answered through the call it joined: one call the node did not get. */
  recordCallSaved(routeIndex: number): void {
    this.#counts.saved[routeIndex]!++;
  }

  /** A multiplexed call's answer came: the requests it answers (the leader and its followers). */
  recordBatchSize(routeIndex: number, size: number): void {
    let bucket = 0;
    while (bucket < BATCH_BUCKETS.length && size > BATCH_BUCKETS[bucket]!) bucket++;
    this.#counts.batchSizes[routeIndex * (BATCH_BUCKETS.length + 1) + bucket]!++;
    this.#counts.batchSum[routeIndex]! += size;
  }

  /** Followers that went to the node on their own after all. */
  recordFallback(reason: string, count: number): void {
    this.#fallbacks.set(reason, (this.#fallbacks.get(reason) ?? 0) + count);
  }

  /** Requests a Redis call failed or timed out for (they went on without it). */
  recordRedisError(use: RedisUse, requests: number): void {
    this.#redisErrors.set(use, (this.#redisErrors.get(use) ?? 0) + requests);
  }

  /** A duplicate answered with the stored response of its Idempotency-Key. */
  recordReplay(): void {
    this.#replays++;
  }

  recordError(code: ErrorCode): void {
    this.#errorCounts[ERROR_INDEX.get(code)!]!++;
  }

  /** The per-route counters, copied (route-counts.ts): the coordinator writes their series. */
  routeCounts(): RouteCounts {
    return { labels: [...this.#routeLabels], ...routeArrays(this.#routeLabels.length, this.#counts) };
  }

  /** The families that are not per route, in prom-client's JSON shape. */
  snapshot(): MetricsSnapshot {
    const errors = family('ringgate_http_errors_total');
    ERROR_CODES.forEach((code, i) => {
      if (this.#errorCounts[i]! > 0) errors.values.push({ labels: { code }, value: this.#errorCounts[i]! });
    });
    const perThread = family('ringgate_thread_requests_total');
    perThread.values.push({ labels: { thread: this.#thread }, value: this.#total });
    const replays = family('ringgate_idempotency_replays_total');
    replays.values.push({ labels: {}, value: this.#replays });
    const redisErrors = family('ringgate_redis_errors_total');
    for (const [use, value] of this.#redisErrors) redisErrors.values.push({ labels: { use }, value });
    const fallbacks = family('ringgate_multiplex_fallbacks_total');
    for (const [reason, value] of this.#fallbacks) fallbacks.values.push({ labels: { reason }, value });
    return [errors, perThread, replays, redisErrors, fallbacks];
  }
}
