/**
 * A tenant's load score (issue 4): per scoring window, average latency in ms plus the 5xx rate ×
 * an error penalty, smoothed by an exponential moving average so one fast window does not unshard
 * a tenant (that one slow window does not shard it is the shard factor's hysteresis: it counts
 * only windows hot themselves). Pure: the coordinator feeds it the counters it harvests from the
 * shared tenant table.
 *
 * Decay by `time` gives every window the weight SCORE_SMOOTHING, so an idle tenant's score halves
 * each window. Decay by `count` (for fleets whose clocks disagree) weighs a window by its requests:
 * `decayRequests` requests weigh SCORE_SMOOTHING, n of them 1 − (1 − SCORE_SMOOTHING)^(n / decayRequests),
 * so a score moves as fast per request whatever the window, and an idle window leaves it alone.
 */

/**
 * Weight of the newest window: a half, so a tenant that turns slow scores above a threshold of
 * half its new latency within one window, and a step back to fast halves the excess per window.
 */
export const SCORE_SMOOTHING = 0.5;

/** One tenant's counters over one window. */
export interface TenantWindow {
  readonly requests: number;
  readonly errors5xx: number;
  readonly latencySumMs: number;
}

export interface ScoreOptions {
  /** Added per unit of 5xx rate: a tenant whose every request fails scores this much more. */
  readonly errorPenaltyMs: number;
  readonly decayMode: 'time' | 'count';
  /** With decayMode `count`: requests that weigh as much as one window does in `time` mode. */
  readonly decayRequests: number;
}

/** The window's own score, or 0 for a window without requests (an idle tenant cools down). */
export function windowScore(window: TenantWindow, errorPenaltyMs: number): number {
  if (window.requests <= 0) return 0;
  return window.latencySumMs / window.requests + (window.errors5xx / window.requests) * errorPenaltyMs;
}

/** How much the newest window moves the average, in [0, 1]. */
export function windowWeight(requests: number, options: ScoreOptions): number {
  if (options.decayMode === 'time') return SCORE_SMOOTHING;
  return 1 - (1 - SCORE_SMOOTHING) ** (requests / options.decayRequests);
}

/**
 * The smoothed score after one more window, given that window's own score (windowScore) and its
 * requests; `previous` is null until the tenant's first window with requests, which sets it outright.
 */
export function nextScore(previous: number | null, current: number, requests: number, options: ScoreOptions): number {
  if (previous === null) return current;
  return previous + windowWeight(requests, options) * (current - previous);
}
