import { doubledMs } from './doubling.js';
import { ActiveHealth, type ActiveCheckPolicy } from './health-check.js';

/**
 * One backend node's health score in [0, 1], the pure part: the coordinator feeds it check
 * results, the per-window counters the acceptors keep, connection-failure streaks and scores
 * pushed by the control plane, and writes `score(now)` into shared memory.
 *
 * "Recovers", for each way out of the ring:
 * - failed checks, or connection failures with active checks: healthyThreshold consecutive
 *   successful checks;
 * - connection failures without active checks: nothing to wait for, so the node is simply tried
 *   again after downWithoutChecksMs;
 * - its own traffic (5xx penalty, or a smoothed success ratio under USABLE_HEALTH): a window of
 *   at least minRequests that is good enough. Out of the ring a node gets no requests, so such a
 *   window could never come: after retryAfterMs without a bad window it is tried again with a
 *   clean slate (success 1, no penalty), and its next full window judges it afresh.
 */

/** Acceptor threads skip nodes scoring below this. */
export const USABLE_HEALTH = 0.3;

export interface PassivePolicy {
  /** Windows with fewer requests say too little to move the score or the penalty. */
  readonly minRequests: number;
  /** A window whose 5xx rate exceeds this sets the penalty. */
  readonly errorRateLimit: number;
  /** Factor on the score while penalized: 0.1 puts any node under USABLE_HEALTH. */
  readonly penalty: number;
  /** Consecutive connection failures that mark a node down at once. */
  readonly connectFailuresDown: number;
  /** EMA weight of a new window's success ratio: a half, so one bad window does not eject a node. */
  readonly smoothing: number;
  /** How long a connection-failure down mark lasts when the cluster has no active checks. */
  readonly downWithoutChecksMs: number;
  /** How long a node out because of its own traffic stays out before it is tried again. */
  readonly retryAfterMs: number;
  /**
   * Standard deviations (binomial, at errorRateLimit) a window's 5xx count must exceed the limit
   * by to set the penalty: a node well under the limit must not be taken out by the noise of a
   * 20-request window (3 of 20 is 15%, and comes once in ~75 windows from a node failing 2%).
   */
  readonly errorRateZ: number;
  /** Windows under minRequests add up, for at most this long, until they make minRequests. */
  readonly pendingMs: number;
  /** Each down mark or retry wait in a row doubles, up to this (Envoy's max_ejection_time). */
  readonly maxOutMs: number;
}

export const PASSIVE_DEFAULTS: PassivePolicy = {
  minRequests: 20,
  errorRateLimit: 0.1,
  penalty: 0.1,
  connectFailuresDown: 5,
  smoothing: 0.5,
  downWithoutChecksMs: 10_000,
  retryAfterMs: 30_000,
  errorRateZ: 3,
  pendingMs: 10_000,
  maxOutMs: 300_000,
};

/** One node's counters over one scoring window; `requests` includes the failed ones. */
export interface NodeWindow {
  readonly requests: number;
  readonly errors5xx: number;
  readonly connectFailures: number;
}

/** Why a node scores what it does, for the admin view; stable words, meant to be matched on. */
export type HealthReason =
  | 'healthy'
  | 'pushed'
  | 'check-failing'
  | 'connect-failures'
  | '5xx-rate'
  | 'low-success'
  | 'retrying';

export class NodeHealth {
  readonly #passive: PassivePolicy;
  /** Null when the node's cluster has no active checks. */
  readonly #active: ActiveHealth | null;
  #success = 1;
  #penalized = false;
  /** When a node out because of its own traffic is tried again (only read while it is out). */
  #retryAt = Infinity;
  /** With checks: the active state is down because of connection failures, not failed checks. */
  #connectDown = false;
  /** Without checks: end of the connection-failure down mark. */
  #downUntil = -Infinity;
  /** The streak that last marked the node down; a streak that has not grown since is old news. */
  #markedStreak = 0;
  #pushed = 0;
  #pushedUntil = -Infinity;
  /** Windows under minRequests not judged yet, and when the first of them ended. */
  #pending = { requests: 0, errors5xx: 0, connectFailures: 0 };
  #pendingSince = -Infinity;
  /** Connection-failure down marks (without checks) in a row: each lasts twice the one before. */
  #connectMarks = 0;
  /** Times in a row the node's own traffic took it out: each retry waits twice as long. */
  #ejections = 0;

  constructor(active: ActiveCheckPolicy | null, passive: PassivePolicy = PASSIVE_DEFAULTS) {
    this.#active = active === null ? null : new ActiveHealth(active);
    this.#passive = passive;
  }

  /** A probe result; ignored when the cluster has no active checks. */
  recordCheck(ok: boolean, _now: number): void {
    if (this.#active === null) return;
    this.#active.record(ok);
    if (this.#active.healthy) this.#connectDown = false;
  }

  recordWindow(window: NodeWindow, now: number): void {
    const p = this.#passive;
    if (window.requests <= 0) return;
    // The node answered and refused nothing: its next connection-failure mark starts short again.
    if (window.connectFailures === 0 && window.requests > window.errors5xx) this.#connectMarks = 0;
    const pending = this.#pending;
    if (now - this.#pendingSince > p.pendingMs) {
      pending.requests = pending.errors5xx = pending.connectFailures = 0;
      this.#pendingSince = now;
    }
    const requests = pending.requests + window.requests;
    const errors5xx = pending.errors5xx + window.errors5xx;
    const connectFailures = pending.connectFailures + window.connectFailures;
    if (requests < p.minRequests) {
      Object.assign(pending, { requests, errors5xx, connectFailures });
      return;
    }
    pending.requests = pending.errors5xx = pending.connectFailures = 0;
    this.#pendingSince = -Infinity;
    // Back in for a whole retry wait since its last retry began (or never out): its next
    // ejection is a first one again. Not sooner: a retry's first window judges it on a clean slate,
    // and a node failing on connections alone is still usable after it (success 0.5).
    if (now - this.#retryAt >= p.retryAfterMs) this.#ejections = 0;
    const wasUsable = this.#passiveScore() >= USABLE_HEALTH || this.#retrying(now);
    if (this.#retrying(now)) {
      this.#success = 1;
      this.#penalized = false;
    }
    const good = Math.max(0, requests - errors5xx - connectFailures);
    this.#success += p.smoothing * (good / requests - this.#success);
    const limit = p.errorRateLimit;
    this.#penalized = errors5xx > requests * limit + p.errorRateZ * Math.sqrt(requests * limit * (1 - limit));
    if (this.#passiveScore() >= USABLE_HEALTH) return;
    if (wasUsable) this.#ejections++;
    this.#retryAt = now + doubledMs(p.retryAfterMs, this.#ejections - 1, p.maxOutMs);
  }

  /**
   * The acceptors' current count of consecutive connection failures. The coordinator reads it
   * every window and it does not move while the node gets no traffic, so only a streak that grew
   * past the one that last marked the node counts: a stale count must not keep it down forever.
   */
  connectFailureStreak(streak: number, now: number): void {
    if (streak < this.#passive.connectFailuresDown) {
      this.#markedStreak = 0;
      return;
    }
    if (streak <= this.#markedStreak) return;
    this.#markedStreak = streak;
    if (this.#active !== null) {
      this.#active.markDown();
      this.#connectDown = true;
    } else {
      this.#downUntil = now + doubledMs(this.#passive.downWithoutChecksMs, this.#connectMarks++, this.#passive.maxOutMs);
    }
  }

  /**
   * A score from the control plane, overriding the passive score until `now + ttlMs`; what the
   * gateway saw itself (failing checks, a connection-failure mark) still takes the node out.
   */
  push(score: number, now: number, ttlMs: number): void {
    this.#pushed = clamp(score);
    this.#pushedUntil = now + ttlMs;
  }

  score(now: number): number {
    if (now < this.#downUntil) return 0;
    if (this.#active !== null && !this.#active.healthy) return 0;
    if (now < this.#pushedUntil) return this.#pushed;
    if (this.#retrying(now)) return 1;
    return clamp(this.#passiveScore());
  }

  reason(now: number): HealthReason {
    if (now < this.#downUntil) return 'connect-failures';
    if (this.#active !== null && !this.#active.healthy) return this.#connectDown ? 'connect-failures' : 'check-failing';
    if (now < this.#pushedUntil) return 'pushed';
    if (this.#retrying(now)) return 'retrying';
    if (this.#penalized) return '5xx-rate';
    if (this.#passiveScore() < USABLE_HEALTH) return 'low-success';
    return 'healthy';
  }

  #passiveScore(): number {
    return this.#success * (this.#penalized ? this.#passive.penalty : 1);
  }

  #retrying(now: number): boolean {
    return this.#passiveScore() < USABLE_HEALTH && now >= this.#retryAt;
  }
}

/** Into [0, 1]; NaN (a broken counter or push) counts as 0, failing closed. */
function clamp(x: number): number {
  return x >= 1 ? 1 : x > 0 ? x : 0;
}

/**
 * Envoy's panic rule: when fewer than `panicThreshold` of a cluster's nodes are usable, route over
 * all of them, since piling the whole load on the few left would take those down too. A threshold
 * of 0 never panics; an empty cluster has nothing to spread over, so it does not panic either.
 */
export function panicMode(scores: readonly number[], panicThreshold: number): boolean {
  return scores.length > 0 && usableShare(scores) < panicThreshold;
}

/**
 * The share of `scores` at or over USABLE_HEALTH (NaN for none). A division, not usable compared
 * with threshold × length: 7 / 25 is exactly the double 0.28, 0.28 × 25 is not 7.
 */
export function usableShare(scores: readonly number[]): number {
  let usable = 0;
  for (const s of scores) if (s >= USABLE_HEALTH) usable++;
  return usable / scores.length;
}
