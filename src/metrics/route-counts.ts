import type { MetricFamily } from '../thread-protocol.js';
import { family, LATENCY_BUCKETS_SECONDS } from './definitions.js';

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** Upper bounds of the multiplex batch-size buckets. */
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256] as const;
export const BUCKETS = LATENCY_BUCKETS_SECONDS.length;

/**
 * An acceptor's per-route counters as copies of its typed arrays (request-recorder.ts has the
 * layout of each): what a thread posts at a scrape. Copies cost a memcpy and post as one block
 * each; the series objects, one per route and bucket (150,000 with 10,000 routes), are made by the
 * coordinator (routeFamilies), not by the thread that serves requests.
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

/** Coordinator: a thread's per-route counters in prom-client's JSON shape (a series only once it counted something). */
export function routeFamilies(counts: RouteCounts): MetricFamily[] {
  const requests = family('ringgate_http_requests_total');
  const duration = family('ringgate_http_request_duration_seconds');
  const headBytes = family('ringgate_request_header_bytes_total');
  const limited = family('ringgate_rate_limited_total');
  counts.labels.forEach((route, r) => {
    STATUS_CLASSES.forEach((status_class, c) => {
      const value = counts.statusCounts[r * STATUS_CLASSES.length + c]!;
      if (value > 0) requests.values.push({ labels: { route, status_class }, value });
    });
    if (counts.headBytes[r * 2] !== 0) {
      headBytes.values.push({ labels: { route, direction: 'received' }, value: counts.headBytes[r * 2]! });
      headBytes.values.push({ labels: { route, direction: 'forwarded' }, value: counts.headBytes[r * 2 + 1]! });
    }
    if (counts.rateLimited[r]! > 0) limited.values.push({ labels: { route }, value: counts.rateLimited[r]! });
    if (counts.latencyCount[r] === 0) return;
    let cumulative = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      cumulative += counts.bucketCounts[r * (BUCKETS + 1) + b]!;
      const le = b < BUCKETS ? LATENCY_BUCKETS_SECONDS[b]! : '+Inf';
      duration.values.push({ metricName: `${duration.name}_bucket`, labels: { le, route }, value: cumulative });
    }
    duration.values.push({ metricName: `${duration.name}_sum`, labels: { route }, value: counts.latencySum[r]! });
    duration.values.push({ metricName: `${duration.name}_count`, labels: { route }, value: counts.latencyCount[r]! });
  });
  return [requests, duration, headBytes, limited, ...multiplexFamilies(counts)];
}

function multiplexFamilies(counts: RouteCounts): MetricFamily[] {
  const multiplexed = family('ringgate_multiplexed_requests_total');
  const saved = family('ringgate_upstream_calls_saved_total');
  const sizes = family('ringgate_multiplex_batch_size');
  const width = BATCH_BUCKETS.length + 1;
  counts.labels.forEach((route, r) => {
    if (counts.multiplexed[r]! > 0) multiplexed.values.push({ labels: { route }, value: counts.multiplexed[r]! });
    if (counts.saved[r]! > 0) saved.values.push({ labels: { route }, value: counts.saved[r]! });
    let count = 0;
    for (let b = 0; b < width; b++) count += counts.batchSizes[r * width + b]!;
    if (count === 0) return;
    let cumulative = 0;
    for (let b = 0; b < width; b++) {
      cumulative += counts.batchSizes[r * width + b]!;
      sizes.values.push({ metricName: `${sizes.name}_bucket`, labels: { le: b < BATCH_BUCKETS.length ? BATCH_BUCKETS[b]! : '+Inf', route }, value: cumulative });
    }
    sizes.values.push({ metricName: `${sizes.name}_sum`, labels: { route }, value: counts.batchSum[r]! });
    sizes.values.push({ metricName: `${sizes.name}_count`, labels: { route }, value: count });
  });
  return [multiplexed, saved, sizes];
}
