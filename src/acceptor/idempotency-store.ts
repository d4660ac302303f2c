import { Buffer } from 'node:buffer';
import { tableSeconds } from '../shm/bucket-table.js';
import { ClaimResult, claimKey, completeKey, type Claim, type IdempotencyTable } from '../shm/idempotency-table.js';

/** A key or a fingerprint, as the two Int32 halves of its 64-bit hash. */
export interface Hash64 {
  readonly lo: number;
  readonly hi: number;
}

/** A claim a request holds until it ends: in this instance's table, and in Redis in redis mode. */
export interface HeldKey {
  /** Its entry in the shared table, or -1 (none: the key's bucket was full, the claim is Redis's alone). */
  readonly entry: number;
  /** Which claim of the entry. */
  readonly claim: number;
  /** Its claim in Redis (GATEWAY_SHARED_STATE=redis, even one that failed: it may have landed), or null. */
  readonly shared: SharedClaim | null;
}

/** A claim in Redis: the key's Redis name, the request's fingerprint (16 hex digits) and the claim's token. */
export interface SharedClaim {
  readonly key: string;
  readonly fingerprint: string;
  readonly token: string;
}

/**
 * A claim's verdict: the result; the claim held (Claimed); the stored response (Replay: valid
 * during the call only).
 */
export type ClaimDone = (result: ClaimResult, held: HeldKey | null, replay: Buffer | null) => void;

/**
 * Where idempotency keys live: the shared table of one instance's threads, or Redis for several
 * instances (redis-idempotency-store.ts).
 */
export interface IdempotencyStore {
  /** The verdict may come after claim() returns (a round trip): the caller must watch its client meanwhile. */
  readonly waits: boolean;
  /** Claims `key` for a request with `fingerprint`, or says why not. */
  claim(key: Hash64, fingerprint: Hash64, done: ClaimDone): void;
  /** The request holding `held` ended: keep `response` for replay, or (null) let the key go. */
  complete(held: HeldKey, response: Uint8Array | null): void;
  /** The largest response kept. */
  readonly maxResponseBytes: number;
}

/** The store of one instance: the shared idempotency table, on this thread's lane. */
export class LocalIdempotencyStore implements IdempotencyStore {
  readonly waits = false;
  readonly #table: IdempotencyTable;
  readonly #lane: number;
  readonly #ttlSeconds: number;
  readonly #clock: () => number;
  readonly #claim: Claim = { result: ClaimResult.Claimed, entry: -1, claim: 0, replay: null };

  constructor(table: IdempotencyTable, lane: number, ttlMs: number, clock: () => number = Date.now) {
    this.#table = table;
    this.#lane = lane;
    this.#ttlSeconds = Math.ceil(ttlMs / 1000);
    this.#clock = clock;
  }

  get maxResponseBytes(): number {
    return this.#table.slotBytes;
  }

  claim(key: Hash64, fingerprint: Hash64, done: ClaimDone): void {
    const claim = this.#claim;
    claimKey(this.#table, key.lo, key.hi, fingerprint.lo, fingerprint.hi, this.#lane, tableSeconds(this.#clock()), claim);
    const replay = claim.replay;
    claim.replay = null;
    done(claim.result, claim.result === ClaimResult.Claimed ? { entry: claim.entry, claim: claim.claim, shared: null } : null, replay);
  }

  complete(held: HeldKey, response: Uint8Array | null): void {
    if (held.entry >= 0) completeKey(this.#table, held.entry, held.claim, response, tableSeconds(this.#clock()) + this.#ttlSeconds);
  }
}
