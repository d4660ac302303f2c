/**
 * `baseMs` doubled `doublings` times (none below 0, at most 30), capped at `maxMs`: the wait of
 * an exponential backoff (a breaker's open time, a node's ejection, a thread's restart).
 */
export function doubledMs(baseMs: number, doublings: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, doublings)));
}
