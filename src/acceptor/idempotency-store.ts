import { claimKey, completeKey, tableSeconds, type Claim, type IdempotencyTable } from '../shm/idempotency-table.js';

/** A key or a fingerprint, as the two Int32 halves of its 64-bit hash. */
export interface Hash64 {
  readonly lo: number;
  readonly hi: number;
}

/**
 * Where idempotency keys live: the seam the Redis-backed store of several instances will fill.
 * One instance keeps them in the shared table of its threads.
 */
export interface IdempotencyStore {
  /** Claims `key` for a request with `fingerprint`, or says why not (in `into`). */
  claim(key: Hash64, fingerprint: Hash64, into: Claim): void;
  /** The request holding `entry` ended: keep `response` for replay, or (null) let the key go. */
  complete(entry: number, key: Hash64, response: Uint8Array | null): void;
  /** The largest response kept. */
  readonly maxResponseBytes: number;
}

/** The store of one instance: the shared idempotency table, on this thread's lane. */
export class LocalIdempotencyStore implements IdempotencyStore {
  readonly #table: IdempotencyTable;
  readonly #lane: number;
  readonly #ttlSeconds: number;
  /** A claim not completed by then (its thread died mid-request) stops blocking its key. */
  readonly #inFlightSeconds: number;
  readonly #clock: () => number;

  constructor(table: IdempotencyTable, lane: number, options: { ttlMs: number; upstreamTimeoutMs: number }, clock: () => number = Date.now) {
    this.#table = table;
    this.#lane = lane;
    this.#ttlSeconds = Math.ceil(options.ttlMs / 1000);
    this.#inFlightSeconds = Math.ceil(options.upstreamTimeoutMs / 1000) + 1;
    this.#clock = clock;
  }

  get maxResponseBytes(): number {
    return this.#table.slotBytes;
  }

  claim(key: Hash64, fingerprint: Hash64, into: Claim): void {
    const now = tableSeconds(this.#table, this.#clock());
    claimKey(this.#table, key.lo, key.hi, fingerprint.lo, fingerprint.hi, this.#lane, now, now + this.#inFlightSeconds, into);
  }

  complete(entry: number, key: Hash64, response: Uint8Array | null): void {
    completeKey(this.#table, entry, key.lo, key.hi, response, tableSeconds(this.#table, this.#clock()) + this.#ttlSeconds);
  }
}
