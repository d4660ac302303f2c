import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestRecorder } from '../../src/metrics/request-recorder.js';
import { routeText } from '../../src/metrics/route-text.js';

afterEach(() => vi.restoreAllMocks());

describe('request recorder slots at scale', () => {
  const routes = 10_000;
  const labels = Array.from({ length: routes }, (_, i) => (i % 2 === 0 ? `exact:/e${i}` : `prefix:/p${i}/`));

  it('finds every route\'s slot without scanning the labels (a reload of 10,000 routes looks up each)', () => {
    const recorder = new RequestRecorder(labels, 0);
    // The labels as a reloaded config compiles them: equal strings, not the same objects.
    const reloaded = labels.map((label) => label.split('').join(''));
    // Count the elements a linear search would walk: a scan per lookup makes this routes² / 2.
    let scanned = 0;
    const indexOf = Array.prototype.indexOf;
    vi.spyOn(Array.prototype, 'indexOf').mockImplementation(function (this: unknown[], ...args: [unknown, number?]) {
      scanned += this.length;
      return indexOf.apply(this, args);
    });
    const slots = reloaded.map((label) => recorder.slot(label));
    const added = [recorder.slot('prefix:/new/'), recorder.slot('prefix:/new/')];
    vi.restoreAllMocks();
    expect(slots).toEqual(labels.map((_, i) => i));
    expect(added).toEqual([routes, routes]);
    expect(scanned).toBeLessThanOrEqual(4 * routes);
  });

  it('keeps counts per slot: a new label gets fresh counts, a known one its own', () => {
    const recorder = new RequestRecorder(['exact:/a', 'prefix:/b/'], 0);
    recorder.record(recorder.slot('prefix:/b/'), 200, 0.001);
    const added = recorder.slot('prefix:/c/');
    recorder.record(added, 503, 0.001);
    const requests = routeText(recorder.routeCounts()).split('\n').filter((line) => line.startsWith('ringgate_http_requests_total{'));
    expect(requests).toEqual(['ringgate_http_requests_total{route="prefix:/b/",status_class="2xx"} 1', 'ringgate_http_requests_total{route="prefix:/c/",status_class="5xx"} 1']);
  });
});
