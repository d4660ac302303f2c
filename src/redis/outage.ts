import type { Logger } from '../log.js';

/** What a Redis call was for: the label of ringgate_redis_errors_total. */
export type RedisUse = 'rate_limit' | 'idempotency' | 'tenant_load';

/** One log line per interval at most, however many calls fail: an outage must not flood the log. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Where a failed or timed-out Redis call is reported (the caller then fails open): counted for
 * ringgate_redis_errors_total, per request it failed for, logged at most once per LOG_INTERVAL_MS with the number of failures
 * since the last line.
 */
export class RedisOutage {
  readonly #log: Logger;
  readonly #count: (use: RedisUse, requests: number) => void;
  readonly #clock: () => number;
  #failureLoggedAt = -Infinity;
  #connectionLoggedAt = -Infinity;
  #unlogged = 0;

  constructor(log: Logger, count: (use: RedisUse, requests: number) => void, clock: () => number = Date.now) {
    this.#log = log;
    this.#count = count;
    this.#clock = clock;
  }

  /** A call for `requests` requests failed: each of them goes on without Redis. */
  failed(use: RedisUse, err: Error, requests = 1): void {
    this.#count(use, requests);
    this.#unlogged += requests;
    const now = this.#clock();
    if (now - this.#failureLoggedAt < LOG_INTERVAL_MS) return;
    this.#log.warn({ use, failures: this.#unlogged, err: err.message }, 'redis call failed; going on without it (fail open)');
    this.#failureLoggedAt = now;
    this.#unlogged = 0;
  }

  /** The connection's own errors (refused, reset): logged as rarely, not counted (no call failed). */
  connectionError(err: Error): void {
    const now = this.#clock();
    if (now - this.#connectionLoggedAt < LOG_INTERVAL_MS) return;
    this.#log.warn({ err: err.message }, 'redis connection error; reconnecting with backoff');
    this.#connectionLoggedAt = now;
  }
}
