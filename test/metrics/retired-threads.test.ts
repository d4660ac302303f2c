import { describe, expect, it } from 'vitest';
import { RequestRecorder } from '../../src/metrics/request-recorder.js';
import { ThreadCounts, type ThreadSnapshot } from '../../src/metrics/retired-threads.js';
import { sumRouteCounts } from '../../src/metrics/route-counts.js';
import { routeText } from '../../src/metrics/route-text.js';

/** A thread's answer after `requests` 200s on route exact:/a. */
function answer(requests: number): ThreadSnapshot {
  const recorder = new RequestRecorder(['exact:/a'], 0);
  for (let i = 0; i < requests; i++) recorder.record(0, 200, 0.001);
  return { metrics: recorder.snapshot(), routes: recorder.routeCounts() };
}

/** ringgate_http_requests_total of exact:/a over what a scrape would sum: the live threads' answers and the retired counts. */
async function requests(counts: ThreadCounts, live: ThreadSnapshot[]): Promise<number> {
  const routes = [...live, ...(await counts.retired())].flatMap((s) => (s.routes === null ? [] : [s.routes]));
  const line = routeText(sumRouteCounts(routes)).split('\n').find((l) => l.startsWith('ringgate_http_requests_total{route="exact:/a"'));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

describe('thread counts', () => {
  it('keep the per-route counts of every thread that exited, summed, under those of the live ones', async () => {
    const counts = new ThreadCounts();
    counts.answered(0, answer(5));
    counts.answered(1, answer(7));
    counts.exited(0);
    expect(await requests(counts, [answer(7)])).toBe(12);
    // Thread 0 again, and again dead, many times over: the retired counts stay one sum.
    for (let death = 0; death < 10; death++) {
      counts.answered(0, answer(1));
      counts.exited(0);
    }
    expect((await counts.retired()).filter((s) => s.routes !== null)).toHaveLength(1);
    expect(await requests(counts, [answer(7)])).toBe(22);
  });

  it('take a dying thread\'s last words for its route counts, and keep its last answer\'s when it sent none', async () => {
    const counts = new ThreadCounts();
    counts.answered(0, answer(5));
    counts.lastWords(0, answer(9));
    expect(counts.lastOf(0)!.routes).toEqual(answer(9).routes);
    counts.lastWords(0, { metrics: [], routes: null });
    expect(counts.lastOf(0)!.routes).toEqual(answer(9).routes);
    counts.exited(0);
    expect(await requests(counts, [])).toBe(9);
  });
});
