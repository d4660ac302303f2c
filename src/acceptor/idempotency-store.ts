import { tableSeconds } from '../shm/bucket-table.js';
import { claimKey, completeKey, type Claim, type IdempotencyTable } from '../shm/idempotency-table.js';

/** A key or a fingerprint, as the two Int32 halves of its 64-bit hash. */
export interface Hash64 {
  readonly lo: number;
  readonly hi: number;
}

/** A claim a request holds: its entry, which claim of it, and the key's low half (its bucket). */
export interface HeldKey {
  readonly entry: number;
  readonly claim: number;
  readonly keyLo: number;
}

/**
 * Where idempotency keys live: the seam the Redis-backed store of several instances will fill.
 * One instance keeps them in the shared table of its threads.
 */
export interface IdempotencyStore {
  /** Claims `key` for a request with `fingerprint`, or says why not (in `into`). */
  claim(key: Hash64, fingerprint: Hash64, into: Claim): void;
  /** The request holding `claim` ended: keep `response` for replay, or (null) let the key go. */
  complete(claim: HeldKey, response: Uint8Array | null): void;
  /** The largest response kept. */
  readonly maxResponseBytes: number;
}

/** The store of one instance: the shared idempotency table, on this thread's lane. */
export class LocalIdempotencyStore implements IdempotencyStore {
  readonly #table: IdempotencyTable;
  readonly #lane: number;
  readonly #ttlSeconds: number;
  readonly #clock: () => number;

  constructor(table: IdempotencyTable, lane: number, ttlMs: number, clock: () => number = Date.now) {
    this.#table = table;
    this.#lane = lane;
    this.#ttlSeconds = Math.ceil(ttlMs / 1000);
    this.#clock = clock;
  }

  get maxResponseBytes(): number {
    return this.#table.slotBytes;
  }

  claim(key: Hash64, fingerprint: Hash64, into: Claim): void {
    claimKey(this.#table, key.lo, key.hi, fingerprint.lo, fingerprint.hi, this.#lane, tableSeconds(this.#clock()), into);
  }

  complete(held: HeldKey, response: Uint8Array | null): void {
    completeKey(this.#table, held.entry, held.keyLo, held.claim, response, tableSeconds(this.#clock()) + this.#ttlSeconds);
  }
}
