import { tableSeconds } from '../shm/bucket-table.js';
import { ClaimResult, claimKey, completeKey, type Claim, type IdempotencyTable } from '../shm/idempotency-table.js';

/** A key or a fingerprint, as the two Int32 halves of its 64-bit hash. */
export interface Hash64 {
  readonly lo: number;
  readonly hi: number;
}

/** A claim a request holds: its entry (IN_REDIS: a Redis key), which claim of it, and the key. */
export interface HeldKey {
  readonly entry: number;
  readonly claim: number;
  readonly keyLo: number;
  readonly keyHi: number;
}

/** HeldKey.entry of a claim held in Redis rather than the shared table. */
export const IN_REDIS = -2;

/**
 * Where idempotency keys live: the shared table of one instance's threads, or Redis for several
 * instances (redis-idempotency-store.ts).
 */
export interface IdempotencyStore {
  /** The verdict may come after claim() returns (a round trip): the caller must watch its client meanwhile. */
  readonly waits: boolean;
  /** Claims `key` for a request with `fingerprint`, or says why not: `done` gets the verdict (valid during the call only). */
  claim(key: Hash64, fingerprint: Hash64, done: (claim: Claim) => void): void;
  /** The request holding `claim` ended: keep `response` for replay, or (null) let the key go. */
  complete(claim: HeldKey, response: Uint8Array | null): void;
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

  claim(key: Hash64, fingerprint: Hash64, done: (claim: Claim) => void): void {
    const claim = this.#claim;
    claimKey(this.#table, key.lo, key.hi, fingerprint.lo, fingerprint.hi, this.#lane, tableSeconds(this.#clock()), claim);
    done(claim);
    claim.replay = null;
  }

  complete(held: HeldKey, response: Uint8Array | null): void {
    completeKey(this.#table, held.entry, held.claim, response, tableSeconds(this.#clock()) + this.#ttlSeconds);
  }
}
