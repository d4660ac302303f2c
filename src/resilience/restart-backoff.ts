import { doubledMs } from './doubling.js';

/**
 * Delay before restarting a dead acceptor thread: exponential in the number of deaths within the
 * recent window, so one crash restarts almost at once while a crash loop backs off to `maxMs`
 * instead of spinning the CPU.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Deaths older than this no longer count. */
  readonly windowMs: number;
}

export const RESTART_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 10_000, windowMs: 60_000 };

/** `recentDeaths` are timestamps (ms) of earlier deaths; returns the delay and the pruned list incl. `now`. */
export function nextRestart(
  recentDeaths: readonly number[],
  now: number,
  policy: BackoffPolicy = RESTART_BACKOFF,
): { delayMs: number; deaths: number[] } {
  const deaths = recentDeaths.filter((t) => now - t < policy.windowMs);
  const delayMs = doubledMs(policy.baseMs, deaths.length, policy.maxMs);
  deaths.push(now);
  return { delayMs, deaths };
}
