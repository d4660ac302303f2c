import { describe, expect, it } from 'vitest';
import { METRICS } from '../../src/metrics/definitions.js';
import { RequestRecorder } from '../../src/metrics/request-recorder.js';
import { sumRouteCounts } from '../../src/metrics/route-counts.js';
import { routeText } from '../../src/metrics/route-text.js';

/** The series lines of family `name` in Prometheus text (its _bucket, _sum and _count lines too). */
const lines = (text: string, name: string): string[] => text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name}_`) || line.startsWith(`${name} `));

describe('per-route counters posted as arrays', () => {
  it('are written as the series Prometheus reads: one per counted route, histograms cumulative, nothing for a quiet route', () => {
    const recorder = new RequestRecorder(['exact:/a', 'prefix:/b/', 'prefix:/quiet/'], 3);
    recorder.record(0, 200, 0.0007);
    recorder.record(0, 503, 0.02);
    recorder.recordHeadBytes(0, 300, 120);
    recorder.recordRateLimited(1);
    recorder.recordMultiplexed(1);
    recorder.recordCallSaved(1);
    recorder.recordBatchSize(1, 3);
    const text = routeText(recorder.routeCounts());
    expect(lines(text, 'ringgate_http_requests_total')).toEqual([
      'ringgate_http_requests_total{route="exact:/a",status_class="2xx"} 1',
      'ringgate_http_requests_total{route="exact:/a",status_class="5xx"} 1',
    ]);
    const duration = lines(text, 'ringgate_http_request_duration_seconds');
    expect(duration).toHaveLength(15 + 2);
    expect(duration.filter((line) => /le="(0\.0005|0\.001|0\.01|0\.025|\+Inf)"/.test(line))).toEqual([
      'ringgate_http_request_duration_seconds_bucket{le="0.0005",route="exact:/a"} 0',
      'ringgate_http_request_duration_seconds_bucket{le="0.001",route="exact:/a"} 1',
      'ringgate_http_request_duration_seconds_bucket{le="0.01",route="exact:/a"} 1',
      'ringgate_http_request_duration_seconds_bucket{le="0.025",route="exact:/a"} 2',
      'ringgate_http_request_duration_seconds_bucket{le="+Inf",route="exact:/a"} 2',
    ]);
    expect(duration.slice(-2)).toEqual([
      'ringgate_http_request_duration_seconds_sum{route="exact:/a"} 0.0207',
      'ringgate_http_request_duration_seconds_count{route="exact:/a"} 2',
    ]);
    expect(lines(text, 'ringgate_request_header_bytes_total')).toEqual([
      'ringgate_request_header_bytes_total{route="exact:/a",direction="received"} 300',
      'ringgate_request_header_bytes_total{route="exact:/a",direction="forwarded"} 120',
    ]);
    expect(lines(text, 'ringgate_rate_limited_total')).toEqual(['ringgate_rate_limited_total{route="prefix:/b/"} 1']);
    expect(lines(text, 'ringgate_multiplexed_requests_total')).toEqual(['ringgate_multiplexed_requests_total{route="prefix:/b/"} 1']);
    expect(lines(text, 'ringgate_upstream_calls_saved_total')).toEqual(['ringgate_upstream_calls_saved_total{route="prefix:/b/"} 1']);
    const sizes = lines(text, 'ringgate_multiplex_batch_size');
    expect(sizes.filter((line) => /le="(2|4)"|_sum|_count/.test(line))).toEqual([
      'ringgate_multiplex_batch_size_bucket{le="2",route="prefix:/b/"} 0',
      'ringgate_multiplex_batch_size_bucket{le="4",route="prefix:/b/"} 1',
      'ringgate_multiplex_batch_size_sum{route="prefix:/b/"} 3',
      'ringgate_multiplex_batch_size_count{route="prefix:/b/"} 1',
    ]);
    expect(text).not.toContain('/quiet/');
  });

  it('write every family with its help and type, a blank line apart, even before any request', () => {
    const blocks = routeText(new RequestRecorder(['exact:/a'], 0).routeCounts()).split('\n\n');
    const families = [
      'ringgate_http_requests_total',
      'ringgate_http_request_duration_seconds',
      'ringgate_request_header_bytes_total',
      'ringgate_rate_limited_total',
      'ringgate_multiplexed_requests_total',
      'ringgate_upstream_calls_saved_total',
      'ringgate_multiplex_batch_size',
    ] as const;
    expect(blocks).toEqual(families.map((name) => `# HELP ${name} ${METRICS[name].help}\n# TYPE ${name} ${METRICS[name].type}`));
  });

  it('escape a route label as the text format requires', () => {
    const recorder = new RequestRecorder(['exact:/a"b\\c'], 0);
    recorder.record(0, 200, 0.001);
    expect(lines(routeText(recorder.routeCounts()), 'ringgate_http_requests_total')).toEqual(['ringgate_http_requests_total{route="exact:/a\\"b\\\\c",status_class="2xx"} 1']);
  });

  it('sum threads by route label, whatever each thread\'s label order, labels in order of first appearance', () => {
    const first = new RequestRecorder(['exact:/a', 'prefix:/b/'], 0);
    const second = new RequestRecorder(['prefix:/b/', 'prefix:/c/', 'exact:/a'], 1);
    first.record(0, 200, 0.001);
    first.record(1, 200, 0.001);
    second.record(0, 200, 0.001);
    second.record(0, 404, 0.001);
    second.record(2, 200, 0.001);
    second.recordHeadBytes(1, 10, 7);
    const sum = sumRouteCounts([first.routeCounts(), second.routeCounts()]);
    expect(sum.labels).toEqual(['exact:/a', 'prefix:/b/', 'prefix:/c/']);
    const text = routeText(sum);
    expect(lines(text, 'ringgate_http_requests_total')).toEqual([
      'ringgate_http_requests_total{route="exact:/a",status_class="2xx"} 2',
      'ringgate_http_requests_total{route="prefix:/b/",status_class="2xx"} 2',
      'ringgate_http_requests_total{route="prefix:/b/",status_class="4xx"} 1',
    ]);
    expect(lines(text, 'ringgate_http_request_duration_seconds').filter((line) => line.includes('_count'))).toEqual([
      'ringgate_http_request_duration_seconds_count{route="exact:/a"} 2',
      'ringgate_http_request_duration_seconds_count{route="prefix:/b/"} 3',
    ]);
    expect(lines(text, 'ringgate_request_header_bytes_total')).toEqual([
      'ringgate_request_header_bytes_total{route="prefix:/c/",direction="received"} 10',
      'ringgate_request_header_bytes_total{route="prefix:/c/",direction="forwarded"} 7',
    ]);
  });

  it('are copies: what the thread counts after posting them is not in them', () => {
    const recorder = new RequestRecorder(['exact:/a'], 0);
    recorder.record(0, 200, 0.001);
    const posted = recorder.routeCounts();
    recorder.record(0, 200, 0.001);
    expect(lines(routeText(posted), 'ringgate_http_requests_total')).toEqual(['ringgate_http_requests_total{route="exact:/a",status_class="2xx"} 1']);
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
