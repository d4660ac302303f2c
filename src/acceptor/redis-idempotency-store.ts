import { randomInt } from 'node:crypto';
import type { Settings } from '../config/schema.js';
import { hex64 } from '../hash.js';
import { idempotencyKey, IdempotencyScripts, RedisClaim } from '../redis/idempotency-scripts.js';
import type { RedisOutage } from '../redis/outage.js';
import { ClaimResult, type Claim } from '../shm/idempotency-table.js';
import { IN_REDIS, type Hash64, type HeldKey, type IdempotencyStore, type LocalIdempotencyStore } from './idempotency-store.js';

const CLAIM_RESULTS: Readonly<Record<RedisClaim, ClaimResult>> = {
  [RedisClaim.Claimed]: ClaimResult.Claimed,
  [RedisClaim.InFlight]: ClaimResult.InFlight,
  [RedisClaim.Reused]: ClaimResult.Reused,
  [RedisClaim.Replay]: ClaimResult.Replay,
};

/**
 * Idempotency keys every instance shares (GATEWAY_SHARED_STATE=redis): a claim is a SET NX in
 * Redis (redis/idempotency-scripts.ts), so of two duplicates on two instances one runs and the
 * other gets 409, then the replay, as within one instance. A claim names itself by a token, so a
 * late completion never overwrites a newer claim of the same key. While Redis fails, claims go to
 * this instance's table instead (fail open: duplicates are still caught within the instance).
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly waits = true;
  readonly #scripts: IdempotencyScripts;
  readonly #local: LocalIdempotencyStore;
  readonly #outage: RedisOutage;
  readonly #keyPrefix: string;
  readonly #ttlMs: number;
  readonly #inFlightMs: number;
  #nextToken = randomInt(2 ** 30);

  constructor(settings: Readonly<Settings>, scripts: IdempotencyScripts, local: LocalIdempotencyStore, outage: RedisOutage) {
    this.#scripts = scripts;
    this.#local = local;
    this.#outage = outage;
    this.#keyPrefix = settings.redisKeyPrefix;
    this.#ttlMs = settings.idempotencyTtlMs;
    this.#inFlightMs = inFlightMs(settings.upstreamTimeoutMs);
  }

  get maxResponseBytes(): number {
    return this.#local.maxResponseBytes;
  }

  claim(key: Hash64, fingerprint: Hash64, done: (claim: Claim) => void): void {
    // Unique among this thread's claims; the fingerprint check keeps other instances' apart.
    const token = this.#nextToken;
    this.#nextToken = (this.#nextToken + 1) % 2 ** 31;
    const redisKey = this.#redisKey(key.lo, key.hi);
    this.#scripts.claim(redisKey, hex64(fingerprint.lo, fingerprint.hi), String(token), this.#inFlightMs).then(
      ([result, stored]) => done({ result: CLAIM_RESULTS[result], entry: IN_REDIS, claim: token, replay: stored ?? null }),
      (err: Error) => {
        this.#outage.failed('idempotency', err);
        // A claim that timed out may still land; this release runs after it (one connection, in
        // order), or its marker would hold the key for every instance until it expires.
        this.#scripts.complete(redisKey, String(token), null, this.#ttlMs).catch(() => {});
        this.#local.claim(key, fingerprint, done);
      },
    );
  }

  complete(held: HeldKey, response: Uint8Array | null): void {
    if (held.entry !== IN_REDIS) return this.#local.complete(held, response);
    this.#scripts.complete(this.#redisKey(held.keyLo, held.keyHi), String(held.claim), response, this.#ttlMs).catch((err: Error) => {
      // The in-flight claim stays until its TTL: duplicates get 409 until then.
      this.#outage.failed('idempotency', err);
    });
  }

  #redisKey(lo: number, hi: number): string {
    return idempotencyKey(this.#keyPrefix, hex64(lo, hi));
  }
}

/**
 * How long an in-flight claim holds in Redis: past the longest a request waits for its answer's
 * head (all tries), so only a claim whose instance died runs out, and then duplicates may run.
 */
export function inFlightMs(upstreamTimeoutMs: number): number {
  return Math.max(60_000, 2 * upstreamTimeoutMs);
}
