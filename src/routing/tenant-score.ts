/**
 * A tenant's load score (issue 4): per scoring window, average latency in ms plus the 5xx rate ×
 * an error penalty, smoothed by an exponential moving average so one slow window does not shard
 * a tenant and one fast window does not unshard it. Pure: the coordinator feeds it the counters
 * it harvests from the shared tenant table.
 */

/** One tenant's counters over one window. */
export interface TenantWindow {
  readonly requests: number;
  readonly errors5xx: number;
  readonly latencySumMs: number;
}

export interface ScoreOptions {
  /** Added per unit of 5xx rate: a tenant whose every request fails scores this much more. */
  readonly errorPenaltyMs: number;
  /** Weight of the newest window in the moving average, in (0, 1]. */
  readonly smoothing: number;
}

/** The window's own score, or 0 for a window without requests (an idle tenant cools down). */
export function windowScore(window: TenantWindow, errorPenaltyMs: number): number {
  if (window.requests <= 0) return 0;
  return window.latencySumMs / window.requests + (window.errors5xx / window.requests) * errorPenaltyMs;
}

/** The smoothed score after one more window; `previous` is null for a tenant's first window. */
export function nextScore(previous: number | null, window: TenantWindow, options: ScoreOptions): number {
  const current = windowScore(window, options.errorPenaltyMs);
  if (previous === null) return current;
  return previous + options.smoothing * (current - previous);
}
