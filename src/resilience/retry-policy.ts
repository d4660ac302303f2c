/**
 * When a failed try may be tried again on another node, and how long to wait first (pure: the
 * clock and the random source come in). What a request must be for a retry to be safe (idempotent,
 * body whole, nothing sent to the client) is the request path's; this is the route's policy and the
 * cluster's budget.
 */
import { RETRY_REASONS, type RetryReason } from './retry-reasons.js';
import type { RetriesConfig } from '../config/schema.js';

/** A reason's bit in a policy's mask, and its index in the shared retry counters. */
export function retryReasonIndex(reason: RetryReason): number {
  return RETRY_REASONS.indexOf(reason);
}

/** Below this much time left, a retry could not get an answer in time: the failure is answered. */
export const MIN_TRY_MS = 5;

export class RetryPolicy {
  readonly max: number;
  readonly #on: number;
  readonly #baseMs: number;
  readonly #capMs: number;
  readonly #perTryMs: number | undefined;
  readonly #totalMs: number;

  /** `totalMs`: GATEWAY_UPSTREAM_TIMEOUT_MS, which all tries and waits together stay within. */
  constructor(config: RetriesConfig, totalMs: number) {
    this.max = config.max;
    this.#on = config.on.reduce((mask, reason) => mask | (1 << retryReasonIndex(reason)), 0);
    this.#baseMs = config.backoffBaseMs;
    this.#capMs = config.backoffCapMs;
    this.#perTryMs = config.perTryTimeoutMs;
    this.#totalMs = totalMs;
  }

  retriesOn(reasonIndex: number): boolean {
    return (this.#on & (1 << reasonIndex)) !== 0;
  }

  /** Whether any of 502, 503, 504 is retried: a route without them never looks at an answer's status. */
  get retriesStatuses(): boolean {
    return this.#on >= 1 << retryReasonIndex('502');
  }

  /** AWS's "full jitter": random(0, min(cap, base × 2^retry)), `retry` counted from 0. */
  backoffMs(retry: number, random: () => number): number {
    return random() * Math.min(this.#capMs, this.#baseMs * 2 ** retry);
  }

  /**
   * How long a try dispatched at `now` may wait for its answer's head, for a request that started
   * at `startedAt`: the per-try timeout, cut to what is left of the total. Below MIN_TRY_MS: no try.
   */
  tryTimeoutMs(now: number, startedAt: number): number {
    const left = startedAt + this.#totalMs - now;
    return Math.min(left, this.#perTryMs ?? left);
  }

  /** The per-try timeout the first try is dispatched with; undefined: the pool's (the total). */
  get firstTryTimeoutMs(): number | undefined {
    return this.#perTryMs === undefined ? undefined : Math.min(this.#perTryMs, this.#totalMs);
  }
}

/**
 * Envoy's retry budget: the retries a cluster may have in flight given its requests in flight, so
 * that retries can never multiply the load of a cluster that fails everything.
 */
export function retryBudget(requestsInFlight: number, percent: number, minRetries: number): number {
  return Math.max(minRetries, Math.floor((requestsInFlight * percent) / 100));
}

/** HTTP methods that mean the same when sent twice (RFC 9110 §9.2.2). */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
