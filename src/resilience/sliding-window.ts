/**
 * The sliding-window counter (Cloudflare's and Envoy's local rate limit): two fixed windows, the
 * current one counted exactly and the previous one weighted by how much of it still overlaps a
 * window ending now. It never lets more than `limit` through in any window-long span by more than
 * the previous window's unevenness, with two counters per key instead of a log of timestamps.
 * Pure: the caller passes the counts and the time.
 */

/** Requests counted in the sliding window ending at `nowMs`, from the current and previous fixed windows' counts. */
export function slidingCount(previous: number, current: number, nowMs: number, windowMs: number): number {
  const intoWindow = nowMs % windowMs;
  return previous * ((windowMs - intoWindow) / windowMs) + current;
}

/** The fixed window `nowMs` falls in. */
export function windowOf(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs);
}

/** Milliseconds until the current fixed window ends (RateLimit-Reset, Retry-After). */
export function untilReset(nowMs: number, windowMs: number): number {
  return windowMs - (nowMs % windowMs);
}

/**
 * The counts after `passed` windows went by since they were counted (two functions, so that the
 * per-request caller allocates nothing): the same window keeps its counts, the next one shifts
 * current into previous, a later one starts from nothing. A count of windows passed, not two
 * window numbers: the limiter's are Int32s that wrap, and only their difference survives it.
 */
export function rolledPrevious(passed: number, previous: number, current: number): number {
  return passed === 0 ? previous : passed === 1 ? current : 0;
}

export function rolledCurrent(passed: number, current: number): number {
  return passed === 0 ? current : 0;
}

/** Requests left before the limit, as RateLimit-Remaining says it (never negative). */
export function remaining(limit: number, counted: number): number {
  return Math.max(0, Math.floor(limit - counted));
}

/**
 * Milliseconds until one more request fits a key refused `intoMs` into its window, if no other
 * comes: in this window once the previous one's share has slid down enough, else in the next,
 * once this window's count has slid down in turn. redis/rate-limit-script.ts computes the same.
 */
export function untilOneFits(limit: number, previous: number, current: number, intoMs: number, windowMs: number): number {
  // Refused with room in this window's count: the previous window's share is what is in the way.
  if (current + 1 <= limit) return Math.min(Math.ceil(windowMs * (1 - (limit - 1 - current) / previous)) - intoMs, windowMs - intoMs);
  return windowMs - intoMs + Math.ceil(windowMs * (1 - (limit - 1) / current));
}
