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
 * Layout (bucket-table.ts: header, bucket locks, entries, slots), Int32 words:
 *   EVICTIONS   done entries given up for new keys  acceptor Atomics.add(+1) under the bucket lock
 *   USES        claims and replays so far (wraps):  acceptor Atomics.add(+1) per claim and replay
 *               the order of use, and each claim's
 *               identity
 *   per entry e, ENTRY_WORDS, all written under its bucket's lock:
 *     STATE       FREE, IN_FLIGHT or DONE
 *     KEY_LO, KEY_HI, FP_LO, FP_HI   the key's and the request's 64-bit hashes
 *     OWNER       the acceptor lane running it (IN_FLIGHT)
 *     UNTIL       when a DONE entry expires (tableSeconds)
 *     LAST_USED   the USES value of its claim or last replay (eviction order; compared as an age)
 *     CLAIM       the USES value of its claim: completing it must name the same claim
 *     LENGTH      bytes of the stored response (DONE)
 *   then entry e's stored response in its slot.
 */

import { Buffer } from 'node:buffer';
import {
  attachBucketTable,
  bucketTableBytes,
  createBucketTable,
  entryLock,
  entryWord,
  firstEntry,
  keyLock,
  slotOffset,
  WAYS,
  withBucketLock,
  type BucketTable,
} from './bucket-table.js';

/** Header words after bucket-table.ts's ENTRY_COUNT and SLOT_BYTES. */
export const EVICTIONS = 2;
export const USES = 3;

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

export type IdempotencyTable = BucketTable;

/** Bytes of a table of `entries` keys with `slotBytes` each: what config/table-sizes.ts checks before start. */
export function idempotencyTableBytes(entries: number, slotBytes: number): number {
  return bucketTableBytes(entries, slotBytes, ENTRY_WORDS);
}

/** Coordinator: room for `entries` keys (rounded up to whole buckets), `slotBytes` of response each. */
export function createIdempotencyTable(entries: number, slotBytes: number): IdempotencyTable {
  return createBucketTable(entries, slotBytes, ENTRY_WORDS);
}

/** The thread of lane `lane`'s view of the table. */
export function attachIdempotencyTable(buffer: SharedArrayBuffer, lane: number): IdempotencyTable {
  return attachBucketTable(buffer, ENTRY_WORDS, lane);
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

/**
 * Acceptor on `lane`: the key (keyLo, keyHi) for a request whose fingerprint is (fpLo, fpHi), at
 * `now` (table seconds; a done entry is kept until it expires).
 */
export function claimKey(table: IdempotencyTable, keyLo: number, keyHi: number, fpLo: number, fpHi: number, lane: number, now: number, into: Claim): void {
  const words = table.words;
  const lock = keyLock(table, keyLo, keyHi);
  withBucketLock(table, lock, () => {
    const first = firstEntry(lock);
    // As the word holds it (wrapping past 2^31): completing compares the claim with the word.
    const use = (Atomics.add(words, USES, 1) + 1) | 0;
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
          const start = slotOffset(table, entry);
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
  });
}

/**
 * Acceptor: the request that made `claim` on `entry` ended. With a response
 * (that fits its slot) the entry is done until `expires`; without one (a 5xx, a failure, a
 * response too large) it is free again, so the client may try again. Nothing if the entry no
 * longer holds that claim (its thread was declared dead and the key claimed anew).
 */
export function completeKey(table: IdempotencyTable, entry: number, claim: number, response: Uint8Array | null, expires: number): void {
  const words = table.words;
  withBucketLock(table, entryLock(entry), () => {
    const ours = words[entryWord(table, entry, STATE)] === EntryState.InFlight && words[entryWord(table, entry, CLAIM)] === claim;
    if (!ours) return;
    if (response === null || response.byteLength > table.slotBytes) {
      words[entryWord(table, entry, STATE)] = EntryState.Free;
      return;
    }
    table.bytes.set(response, slotOffset(table, entry));
    words[entryWord(table, entry, LENGTH)] = response.byteLength;
    words[entryWord(table, entry, UNTIL)] = expires;
    words[entryWord(table, entry, STATE)] = EntryState.Done;
  });
}

/** Coordinator, once the thread of `lane` has exited: its requests in flight will never complete. */
export function releaseIdempotencyLane(table: IdempotencyTable, lane: number): number {
  const words = table.words;
  let released = 0;
  for (let entry = 0; entry < table.entries; entry += WAYS) {
    withBucketLock(table, entryLock(entry), () => {
      for (let e = entry; e < entry + WAYS; e++) {
        if (words[entryWord(table, e, STATE)] === EntryState.InFlight && words[entryWord(table, e, OWNER)] === lane) {
          words[entryWord(table, e, STATE)] = EntryState.Free;
          released++;
        }
      }
    });
  }
  return released;
}

export function idempotencyEvictions(table: IdempotencyTable): number {
  return Atomics.load(table.words, EVICTIONS) >>> 0;
}
