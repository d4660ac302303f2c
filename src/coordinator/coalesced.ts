import { performance } from 'node:perf_hooks';

/**
 * Collections of /metrics begin at most this often: each asks every acceptor thread for a snapshot
 * (about a millisecond of its time), so a scraper in a loop, or many at once, would otherwise take
 * that from the requests the threads serve. Prometheus scrapes every few seconds.
 */
export const METRICS_MIN_GAP_MS = 100;

const settled = (): void => {};

/**
 * `collect` shared by the calls that overlap: a call while a collection runs waits for it and
 * shares the next with every call that comes before that one begins, and the next begins no
 * sooner than `minGapMs` after the last one began. So each answer was collected after its call
 * came (a scrape never reads counts older than itself), one collection runs at a time, and at most
 * one begins per `minGapMs`, however many scrapers there are and however fast they ask.
 */
export function coalesced<T>(collect: () => Promise<T>, minGapMs: number, now: () => number = () => performance.now()): () => Promise<T> {
  /** The next collection, not begun yet: every call shares it. */
  let next: Promise<T> | null = null;
  /** The collection in flight. */
  let running: Promise<T> | null = null;
  let startedAt = -Infinity;
  const begin = (): Promise<T> => {
    next = null;
    startedAt = now();
    const run = collect();
    running = run;
    const done = (): void => {
      if (running === run) running = null;
    };
    run.then(done, done);
    return run;
  };
  return () => {
    if (next !== null) return next;
    const after = running === null ? Promise.resolve() : running.then(settled, settled);
    next = after
      .then(() => {
        const wait = startedAt + minGapMs - now();
        return wait > 0 ? new Promise<void>((resolve) => setTimeout(resolve, wait)) : undefined;
      })
      .then(begin);
    return next;
  };
}
