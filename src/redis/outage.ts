import { LogThrottle, type Logger } from '../log.js';

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
  readonly #failures = new LogThrottle(LOG_INTERVAL_MS);
  readonly #connectionErrors = new LogThrottle(LOG_INTERVAL_MS);

  constructor(log: Logger, count: (use: RedisUse, requests: number) => void, clock: () => number = Date.now) {
    this.#log = log;
    this.#count = count;
    this.#clock = clock;
  }

  /** A call for `requests` requests failed: each of them goes on without Redis. */
  failed(use: RedisUse, err: Error, requests = 1): void {
    this.#count(use, requests);
    const failures = this.#failures.count(this.#clock(), requests);
    if (failures === null) return;
    this.#log.warn({ use, failures, err: err.message }, 'redis call failed; going on without it (fail open)');
  }

  /** The connection's own errors (refused, reset): logged as rarely, not counted (no call failed). */
  connectionError(err: Error): void {
    if (this.#connectionErrors.count(this.#clock()) === null) return;
    this.#log.warn({ err: err.message }, 'redis connection error; reconnecting with backoff');
  }
}
