import { ERROR_CODES, type ErrorCode } from '../errors.js';
import type { MetricFamily, MetricsSnapshot } from '../thread-protocol.js';
import { LATENCY_BUCKETS_SECONDS, METRICS, type MetricName } from './definitions.js';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const BUCKETS = LATENCY_BUCKETS_SECONDS.length;
const ERROR_INDEX = new Map<ErrorCode, number>(ERROR_CODES.map((code, i) => [code, i]));

/**
 * An acceptor's request metrics, counted in plain typed arrays (a few array writes per request).
 * prom-client's own label-hashing per increment costs more than the request budget allows, so the
 * thread exports a snapshot in prom-client's JSON shape and the coordinator merges the threads with
 * prom-client's AggregatorRegistry.
 */
export class RequestRecorder {
  readonly #routeLabels: string[];
  readonly #thread: string;
  #statusCounts: Float64Array; // [route × status class]
  #bucketCounts: Float64Array; // [route × bucket], non-cumulative
  #latencySum: Float64Array; // [route]
  #latencyCount: Float64Array; // [route]
  #headBytes: Float64Array; // [route × (received, forwarded)], routes with header compaction
  readonly #errorCounts = new Float64Array(ERROR_CODES.length);
  #total = 0;
  #replays = 0;

  constructor(routeLabels: readonly string[], threadIndex: number) {
    this.#routeLabels = [...routeLabels];
    this.#thread = String(threadIndex);
    this.#statusCounts = new Float64Array(routeLabels.length * STATUS_CLASSES.length);
    this.#bucketCounts = new Float64Array(routeLabels.length * (BUCKETS + 1));
    this.#latencySum = new Float64Array(routeLabels.length);
    this.#latencyCount = new Float64Array(routeLabels.length);
    this.#headBytes = new Float64Array(routeLabels.length * 2);
  }

  /**
   * The slot of a route label, a new one when a reloaded config brings a route not seen before:
   * a route that stays keeps its counts (counters never go back), one that leaves keeps its last.
   */
  slot(label: string): number {
    const known = this.#routeLabels.indexOf(label);
    if (known >= 0) return known;
    this.#routeLabels.push(label);
    const routes = this.#routeLabels.length;
    this.#statusCounts = grown(this.#statusCounts, routes * STATUS_CLASSES.length);
    this.#bucketCounts = grown(this.#bucketCounts, routes * (BUCKETS + 1));
    this.#latencySum = grown(this.#latencySum, routes);
    this.#latencyCount = grown(this.#latencyCount, routes);
    this.#headBytes = grown(this.#headBytes, routes * 2);
    return routes - 1;
  }

  record(routeIndex: number, status: number, seconds: number): void {
    this.#total++;
    const cls = Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1;
    this.#statusCounts[routeIndex * STATUS_CLASSES.length + cls]!++;
    let bucket = 0;
    while (bucket < BUCKETS && seconds > LATENCY_BUCKETS_SECONDS[bucket]!) bucket++;
    this.#bucketCounts[routeIndex * (BUCKETS + 1) + bucket]!++;
    this.#latencySum[routeIndex]! += seconds;
    this.#latencyCount[routeIndex]!++;
  }

  /** A request of a route with header compaction: its head's bytes as received, and as forwarded. */
  recordHeadBytes(routeIndex: number, received: number, forwarded: number): void {
    this.#headBytes[routeIndex * 2]! += received;
    this.#headBytes[routeIndex * 2 + 1]! += forwarded;
  }

  /** A duplicate answered with the stored response of its Idempotency-Key. */
  recordReplay(): void {
    this.#replays++;
  }

  recordError(code: ErrorCode): void {
    this.#errorCounts[ERROR_INDEX.get(code)!]!++;
  }

  snapshot(): MetricsSnapshot {
    const requests = this.#metric('ringgate_http_requests_total');
    const duration = this.#metric('ringgate_http_request_duration_seconds');
    this.#routeLabels.forEach((route, r) => {
      STATUS_CLASSES.forEach((status_class, c) => {
        const value = this.#statusCounts[r * STATUS_CLASSES.length + c]!;
        if (value > 0) requests.values.push({ labels: { route, status_class }, value });
      });
      if (this.#latencyCount[r] === 0) return;
      let cumulative = 0;
      for (let b = 0; b <= BUCKETS; b++) {
        cumulative += this.#bucketCounts[r * (BUCKETS + 1) + b]!;
        const le = b < BUCKETS ? LATENCY_BUCKETS_SECONDS[b]! : '+Inf';
        duration.values.push({ metricName: `${duration.name}_bucket`, labels: { le, route }, value: cumulative });
      }
      duration.values.push({ metricName: `${duration.name}_sum`, labels: { route }, value: this.#latencySum[r]! });
      duration.values.push({ metricName: `${duration.name}_count`, labels: { route }, value: this.#latencyCount[r]! });
    });
    const headBytes = this.#metric('ringgate_request_header_bytes_total');
    this.#routeLabels.forEach((route, r) => {
      if (this.#headBytes[r * 2] === 0) return;
      headBytes.values.push({ labels: { route, direction: 'received' }, value: this.#headBytes[r * 2]! });
      headBytes.values.push({ labels: { route, direction: 'forwarded' }, value: this.#headBytes[r * 2 + 1]! });
    });
    const errors = this.#metric('ringgate_http_errors_total');
    ERROR_CODES.forEach((code, i) => {
      if (this.#errorCounts[i]! > 0) errors.values.push({ labels: { code }, value: this.#errorCounts[i]! });
    });
    const perThread = this.#metric('ringgate_thread_requests_total');
    perThread.values.push({ labels: { thread: this.#thread }, value: this.#total });
    const replays = this.#metric('ringgate_idempotency_replays_total');
    replays.values.push({ labels: {}, value: this.#replays });
    return [requests, duration, headBytes, errors, perThread, replays];
  }

  #metric(name: MetricName): MetricFamily {
    const def = METRICS[name];
    return { name, help: def.help, type: def.type, values: [], aggregator: 'sum' };
  }
}

function grown(counts: Float64Array, length: number): Float64Array {
  const next = new Float64Array(length);
  next.set(counts);
  return next;
}
