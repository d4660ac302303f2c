import { describe, expect, it } from 'vitest';
import { RequestRecorder } from '../../src/metrics/request-recorder.js';
import { routeFamilies } from '../../src/metrics/route-counts.js';
import type { MetricFamily } from '../../src/thread-protocol.js';

const named = (families: MetricFamily[], name: string): MetricFamily['values'] => families.find((family) => family.name === name)!.values;

describe('per-route counters posted as arrays', () => {
  it('become the series prom-client merges: one per counted route, histograms cumulative, nothing for a quiet route', () => {
    const recorder = new RequestRecorder(['exact:/a', 'prefix:/b/', 'prefix:/quiet/'], 3);
    recorder.record(0, 200, 0.0007);
    recorder.record(0, 503, 0.02);
    recorder.recordHeadBytes(0, 300, 120);
    recorder.recordRateLimited(1);
    recorder.recordMultiplexed(1);
    recorder.recordCallSaved(1);
    recorder.recordBatchSize(1, 3);
    const families = routeFamilies(recorder.routeCounts());
    expect(named(families, 'ringgate_http_requests_total')).toEqual([
      { labels: { route: 'exact:/a', status_class: '2xx' }, value: 1 },
      { labels: { route: 'exact:/a', status_class: '5xx' }, value: 1 },
    ]);
    const duration = named(families, 'ringgate_http_request_duration_seconds');
    const bucket = (le: number | string): number => duration.find((v) => v.metricName?.endsWith('_bucket') && v.labels.le === le)!.value;
    expect([bucket(0.0005), bucket(0.001), bucket(0.01), bucket(0.025), bucket('+Inf')]).toEqual([0, 1, 1, 2, 2]);
    expect(duration.find((v) => v.metricName?.endsWith('_count'))).toMatchObject({ labels: { route: 'exact:/a' }, value: 2 });
    expect(duration.every((v) => v.labels.route === 'exact:/a')).toBe(true);
    expect(named(families, 'ringgate_request_header_bytes_total')).toEqual([
      { labels: { route: 'exact:/a', direction: 'received' }, value: 300 },
      { labels: { route: 'exact:/a', direction: 'forwarded' }, value: 120 },
    ]);
    expect(named(families, 'ringgate_rate_limited_total')).toEqual([{ labels: { route: 'prefix:/b/' }, value: 1 }]);
    expect(named(families, 'ringgate_multiplexed_requests_total')).toEqual([{ labels: { route: 'prefix:/b/' }, value: 1 }]);
    expect(named(families, 'ringgate_upstream_calls_saved_total')).toEqual([{ labels: { route: 'prefix:/b/' }, value: 1 }]);
    const sizes = named(families, 'ringgate_multiplex_batch_size');
    expect(sizes.find((v) => v.labels.le === 2)!.value).toBe(0);
    expect(sizes.find((v) => v.labels.le === 4)!.value).toBe(1);
    expect(families.flatMap((family) => family.values).some((v) => v.labels.route === 'prefix:/quiet/')).toBe(false);
  });

  it('are copies: what the thread counts after posting them is not in them', () => {
    const recorder = new RequestRecorder(['exact:/a'], 0);
    recorder.record(0, 200, 0.001);
    const posted = recorder.routeCounts();
    recorder.record(0, 200, 0.001);
    expect(named(routeFamilies(posted), 'ringgate_http_requests_total')).toEqual([{ labels: { route: 'exact:/a', status_class: '2xx' }, value: 1 }]);
  });

  it('post no series objects from the thread: only the label list and typed arrays', () => {
    const recorder = new RequestRecorder(Array.from({ length: 1_000 }, (_, i) => `prefix:/r${i}/`), 0);
    for (let r = 0; r < 1_000; r++) recorder.record(r, 200, 0.001);
    const posted = recorder.routeCounts();
    const { labels, ...arrays } = posted;
    expect(labels).toHaveLength(1_000);
    expect(Object.values(arrays).every((array) => array instanceof Float64Array)).toBe(true);
    // The thread's own families hold no per-route series.
    expect(recorder.snapshot().flatMap((family) => family.values).some((v) => 'route' in v.labels)).toBe(false);
  });
});
