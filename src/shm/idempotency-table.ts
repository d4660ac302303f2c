/**
 * Idempotency keys shared by every thread (issue 12, DESIGN's limit phase): for each key (tenant +
 * Idempotency-Key, hashed), the request's fingerprint, whether it is in flight or done, and a done
 * request's stored response, so a duplicate is refused while the first runs and replayed after.
 * Set-associative: a key's bucket is WAYS entries, searched and changed under the bucket's lock
 * (a word taken with Atomics.compareExchange, held for a scan and a copy, never across I/O), so
 * two threads can never both claim one key. A full bucket gives up the done entry used least
 * recently, never one in flight: a claim lasts until its request ends (or its thread dies). Each
 * entry has a fixed slot for its response: the table's bytes are bounded at creation.
 *
 * Layout, Int32 words:
 *   ENTRY_COUNT, SLOT_BYTES, EPOCH_LO, EPOCH_HI      coordinator, once at creation (epoch: ms)
 *   EVICTIONS   done entries given up for new keys  acceptor Atomics.add(+1) under the bucket lock
 *   USES        claims and replays so far (wraps):  acceptor Atomics.add(+1) per claim and replay
 *               the order of use, and each claim's
 *               identity
 *   per bucket b, one word at LOCKS_OFFSET + b:     acceptors, coordinator: Atomics.compareExchange
 *     0 free, 1 held                                (0 → 1) to take, Atomics.store(0) to give back
 *   per entry e, ENTRY_WORDS at entriesOffset + e × ENTRY_WORDS, all written under the lock:
 *     STATE       FREE, IN_FLIGHT or DONE
 *     KEY_LO, KEY_HI, FP_LO, FP_HI   the key's and the request's 64-bit hashes
 *     OWNER       the acceptor lane running it (IN_FLIGHT)
 *     UNTIL       seconds since the epoch a DONE entry expires
 *     LAST_USED   the USES value of its claim or last replay (eviction order; compared as an age)
 *     CLAIM       the USES value of its claim: completing it must name the same claim
 *     LENGTH      bytes of the stored response (DONE)
 *   then entry e's response, SLOT_BYTES bytes at dataOffset + e × SLOT_BYTES (bytes, not words).
 */

export const ENTRY_COUNT = 0;
export const SLOT_BYTES = 1;
export const EPOCH_LO = 2;
export const EPOCH_HI = 3;
export const EVICTIONS = 4;
export const USES = 5;
export const LOCKS_OFFSET = 16;
export const WAYS = 8;

export const STATE = 0;
export const KEY_LO = 1;
export const KEY_HI = 2;
export const FP_LO = 3;
export const FP_HI = 4;
export const OWNER = 5;
export const UNTIL = 6;
export const LAST_USED = 7;
export const LENGTH = 8;
export const CLAIM = 9;
export const ENTRY_WORDS = 10;

export const enum EntryState {
  Free = 0,
  InFlight = 1,
  Done = 2,
}

export interface IdempotencyTable {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly entries: number;
  readonly slotBytes: number;
  readonly epochMs: number;
  readonly entriesOffset: number;
  /** Byte offset of entry 0's response slot. */
  readonly dataOffset: number;
}

function layout(entries: number): { entriesOffset: number; dataOffset: number } {
  const entriesOffset = LOCKS_OFFSET + entries / WAYS;
  return { entriesOffset, dataOffset: (entriesOffset + entries * ENTRY_WORDS) * Int32Array.BYTES_PER_ELEMENT };
}

/** Coordinator: room for `entries` keys (rounded up to whole buckets), `slotBytes` of response each. */
export function createIdempotencyTable(entries: number, slotBytes: number, epochMs: number): IdempotencyTable {
  const count = Math.ceil(entries / WAYS) * WAYS;
  const buffer = new SharedArrayBuffer(layout(count).dataOffset + count * slotBytes);
  const words = new Int32Array(buffer);
  Atomics.store(words, ENTRY_COUNT, count);
  Atomics.store(words, SLOT_BYTES, slotBytes);
  Atomics.store(words, EPOCH_LO, epochMs % 2 ** 32 | 0);
  Atomics.store(words, EPOCH_HI, Math.floor(epochMs / 2 ** 32));
  return attachIdempotencyTable(buffer);
}

export function attachIdempotencyTable(buffer: SharedArrayBuffer): IdempotencyTable {
  const words = new Int32Array(buffer);
  const entries = Atomics.load(words, ENTRY_COUNT);
  const epochMs = (Atomics.load(words, EPOCH_LO) >>> 0) + Atomics.load(words, EPOCH_HI) * 2 ** 32;
  return { buffer, words, bytes: new Uint8Array(buffer), entries, slotBytes: Atomics.load(words, SLOT_BYTES), epochMs, ...layout(entries) };
}

/** Seconds since the table's epoch: the unit of UNTIL and LAST_USED. */
export function tableSeconds(table: IdempotencyTable, nowMs: number): number {
  return Math.floor((nowMs - table.epochMs) / 1000);
}

export const enum ClaimResult {
  /** New key (or expired): the request is now in flight under it and proceeds. */
  Claimed = 0,
  /** The same key is in flight on another request. */
  InFlight = 1,
  /** The same key is done with the same fingerprint: its response is in `replay`. */
  Replay = 2,
  /** The same key was used for another request (method, path or body). */
  Reused = 3,
  /** Every entry of the key's bucket is in flight. */
  Full = 4,
}

/** What a claim found: the result, the entry and claim it holds (Claimed), and the stored response (Replay). */
export interface Claim {
  result: ClaimResult;
  entry: number;
  /** Which claim of the entry is ours: completing checks it. */
  claim: number;
  replay: Buffer | null;
}

function lockWord(table: IdempotencyTable, key: number): number {
  return LOCKS_OFFSET + ((key >>> 0) % (table.entries / WAYS));
}

function lock(words: Int32Array, at: number): void {
  // Held for a scan of 8 entries and at most one slot copy: spinning is cheaper than sleeping.
  while (Atomics.compareExchange(words, at, 0, 1) !== 0);
}

function entryWord(table: IdempotencyTable, entry: number, field: number): number {
  return table.entriesOffset + entry * ENTRY_WORDS + field;
}

/**
 * Acceptor on `lane`: the key (keyLo, keyHi) for a request whose fingerprint is (fpLo, fpHi), at
 * `now` (table seconds; a done entry is kept until it expires).
 */
export function claimKey(table: IdempotencyTable, keyLo: number, keyHi: number, fpLo: number, fpHi: number, lane: number, now: number, into: Claim): void {
  const words = table.words;
  const lockAt = lockWord(table, keyLo);
  lock(words, lockAt);
  try {
    const first = (lockAt - LOCKS_OFFSET) * WAYS;
    const use = Atomics.add(words, USES, 1) + 1;
    let victim = -1;
    let victimAge = -1;
    for (let entry = first; entry < first + WAYS; entry++) {
      const state = words[entryWord(table, entry, STATE)]!;
      const live = state === EntryState.InFlight || (state === EntryState.Done && words[entryWord(table, entry, UNTIL)]! > now);
      if (live && words[entryWord(table, entry, KEY_LO)] === keyLo && words[entryWord(table, entry, KEY_HI)] === keyHi) {
        into.entry = entry;
        if (words[entryWord(table, entry, FP_LO)] !== fpLo || words[entryWord(table, entry, FP_HI)] !== fpHi) {
          into.result = ClaimResult.Reused;
        } else if (state === EntryState.InFlight) {
          into.result = ClaimResult.InFlight;
        } else {
          words[entryWord(table, entry, LAST_USED)] = use;
          const start = table.dataOffset + entry * table.slotBytes;
          into.replay = Buffer.from(table.bytes.slice(start, start + words[entryWord(table, entry, LENGTH)]!));
          into.result = ClaimResult.Replay;
        }
        return;
      }
      // Free and expired entries first, then the done entry used least recently (the oldest use,
      // as an age that survives the counter's wrap); never one in flight.
      const age = !live ? 2 ** 32 : state === EntryState.InFlight ? -1 : (use - words[entryWord(table, entry, LAST_USED)]!) >>> 0;
      if (age > victimAge) {
        victim = entry;
        victimAge = age;
      }
    }
    if (victim < 0) {
      into.result = ClaimResult.Full;
      return;
    }
    if (victimAge < 2 ** 32) Atomics.add(words, EVICTIONS, 1);
    const at = entryWord(table, victim, 0);
    words.set([EntryState.InFlight, keyLo, keyHi, fpLo, fpHi, lane, 0, use, 0, use], at);
    into.entry = victim;
    into.claim = use;
    into.result = ClaimResult.Claimed;
  } finally {
    Atomics.store(words, lockAt, 0);
  }
}

/**
 * Acceptor: the request that made `claim` on `entry` for key (keyLo, …) ended. With a response
 * (that fits its slot) the entry is done until `expires`; without one (a 5xx, a failure, a
 * response too large) it is free again, so the client may try again. Nothing if the entry no
 * longer holds that claim (its thread was declared dead and the key claimed anew).
 */
export function completeKey(table: IdempotencyTable, entry: number, keyLo: number, claim: number, response: Uint8Array | null, expires: number): void {
  const words = table.words;
  const lockAt = lockWord(table, keyLo);
  lock(words, lockAt);
  try {
    const ours = words[entryWord(table, entry, STATE)] === EntryState.InFlight && words[entryWord(table, entry, CLAIM)] === claim;
    if (!ours) return;
    if (response === null || response.byteLength > table.slotBytes) {
      words[entryWord(table, entry, STATE)] = EntryState.Free;
      return;
    }
    table.bytes.set(response, table.dataOffset + entry * table.slotBytes);
    words[entryWord(table, entry, LENGTH)] = response.byteLength;
    words[entryWord(table, entry, UNTIL)] = expires;
    words[entryWord(table, entry, STATE)] = EntryState.Done;
  } finally {
    Atomics.store(words, lockAt, 0);
  }
}

/** Coordinator, once the thread of `lane` has exited: its requests in flight will never complete. */
export function releaseIdempotencyLane(table: IdempotencyTable, lane: number): number {
  const words = table.words;
  let released = 0;
  for (let bucket = 0; bucket < table.entries / WAYS; bucket++) {
    lock(words, LOCKS_OFFSET + bucket);
    for (let entry = bucket * WAYS; entry < (bucket + 1) * WAYS; entry++) {
      if (words[entryWord(table, entry, STATE)] === EntryState.InFlight && words[entryWord(table, entry, OWNER)] === lane) {
        words[entryWord(table, entry, STATE)] = EntryState.Free;
        released++;
      }
    }
    Atomics.store(words, LOCKS_OFFSET + bucket, 0);
  }
  return released;
}

export function idempotencyEvictions(table: IdempotencyTable): number {
  return Atomics.load(table.words, EVICTIONS) >>> 0;
}
