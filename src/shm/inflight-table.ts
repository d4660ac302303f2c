/**
 * Multiplexed calls shared across threads (issue 12, DESIGN's "in-flight table + response arena"):
 * for each read key being fetched by one thread's call, who leads it, how many requests of other
 * threads wait for its answer, and, once it came, the answer itself in the entry's arena slot.
 * Set-associative like the idempotency table: a key's bucket is WAYS entries, changed under the
 * bucket's lock (compareExchange), never across I/O. Waiting threads sleep on the entry's SEQ word
 * (Atomics.waitAsync) and are woken with Atomics.notify when the answer is there or will not be.
 *
 * Layout (bucket-table.ts: header, bucket locks, entries, slots), Int32 words:
 *   JOINS        waits for another thread's call,   acceptor Atomics.add(+1) under the lock
 *                ever
 *   BYTES        answer bytes held in slots now     acceptor Atomics.add / Atomics.sub under the lock
 *   per entry e, ENTRY_WORDS, written under its bucket's lock:
 *     STATE     FREE, LEADING (the call runs), DONE (answer in the slot), FALLBACK (waiters call
 *               on their own), FAILED (waiters answer CODE)
 *     KEY_LO, KEY_HI   the read's 64-bit key hash
 *     OWNER     the lane whose call it is
 *     DEADLINE  when (tableSeconds) a LEADING entry turns stale (its thread stuck), and a settled
 *               one is reclaimed from waiters that never read it (their thread died)
 *     WAITERS   requests of other threads still to read the outcome (one that gives up, or whose
 *               client leaves, while the call runs leaves at once, and notifies: the leader's
 *               thread, its own clients gone, sleeps on it)
 *     SEQ       the entry's generation: a lead settles at the value it started with, and bumps it
 *               (Atomics.store, under the lock) then notifies any; waiters sleep on it; a reclaim
 *               bumps it too, so a late reader of a reused entry reads nothing
 *     LENGTH    bytes of the answer in the slot (DONE), or of the call's key (FAILED)
 *     CODE      the error's index in ANSWERED_CODES (FAILED)
 *   then entry e's answer (or a failed call's key) in its slot.
 */

import { Buffer } from 'node:buffer';
import {
  attachBucketTable,
  bucketTableBytes,
  bucketLocked,
  createBucketTable,
  entryLock,
  entryWord,
  firstEntry,
  keyLock,
  slotOffset,
  withBucketLock,
  type BucketTable,
  WAYS as WAYS_PER_BUCKET,
} from './bucket-table.js';

/** Header words after bucket-table.ts's ENTRY_COUNT and SLOT_BYTES. */
export const JOINS = 2;
export const BYTES = 3;

export const STATE = 0;
export const KEY_LO = 1;
export const KEY_HI = 2;
export const OWNER = 3;
export const DEADLINE = 4;
export const WAITERS = 5;
export const SEQ = 6;
export const LENGTH = 7;
export const CODE = 8;
export const ENTRY_WORDS = 9;

export const enum CallState {
  Free = 0,
  Leading = 1,
  Done = 2,
  Fallback = 3,
  Failed = 4,
}

export type InflightTable = BucketTable;

/** Bytes of a table of `entries` calls with `slotBytes` each: what config/table-sizes.ts checks before start. */
export function inflightTableBytes(entries: number, slotBytes: number): number {
  return bucketTableBytes(entries, slotBytes, ENTRY_WORDS);
}

/** Coordinator: room for `entries` calls (whole buckets), `slotBytes` of answer each. */
export function createInflightTable(entries: number, slotBytes: number): InflightTable {
  return createBucketTable(entries, slotBytes, ENTRY_WORDS);
}

/** The thread of lane `lane`'s view of the table. */
export function attachInflightTable(buffer: SharedArrayBuffer, lane: number): InflightTable {
  return attachBucketTable(buffer, ENTRY_WORDS, lane);
}

/** Word offset of an entry's SEQ, which waiters sleep on. */
export function seqWord(table: InflightTable, entry: number): number {
  return entryWord(table, entry, SEQ);
}

/** Word offset of an entry's WAITERS, which a leader whose own clients all left sleeps on. */
export function waitersWord(table: InflightTable, entry: number): number {
  return entryWord(table, entry, WAITERS);
}

/**
 * Acceptor: a request waiting on lead `seq` of `entry` left (its client went away). While the call
 * runs it is counted out at once, and whoever sleeps on WAITERS is woken: true. False once the lead
 * settled: reading the outcome counts it out then (readOutcome).
 */
export function leaveWait(table: InflightTable, entry: number, seq: number): boolean {
  const words = table.words;
  const at = entryWord(table, entry, 0);
  const left = withBucketLock(table, entryLock(entry), () => countOutOfLead(words, at, seq));
  if (left) Atomics.notify(words, at + WAITERS);
  return left;
}

/** Under the bucket's lock: a waiter of lead `seq` leaves it while it still runs (true); false once it settled. */
function countOutOfLead(words: Int32Array, at: number, seq: number): boolean {
  // SEQ only grows: still `seq`, it is the very lead this waiter was counted in.
  if (words[at + SEQ] !== seq || words[at + STATE] !== CallState.Leading) return false;
  words[at + WAITERS] = words[at + WAITERS]! - 1;
  return true;
}

/** How many requests of other threads wait on an entry now. */
export function waiters(table: InflightTable, entry: number): number {
  return Atomics.load(table.words, entryWord(table, entry, WAITERS));
}

/** What `leadOrWait` found: lead the call (`entry` is ours), wait on another thread's, or neither; `seq`: the entry's generation. */
export interface Found {
  role: 'lead' | 'wait' | 'none';
  entry: number;
  seq: number;
}

/**
 * Acceptor on `lane`, a read with key (keyLo, keyHi) that no call of its own thread serves: wait
 * for another thread's call of it, or lead a new one (an entry free, or settled and read by all),
 * or neither (every entry of the bucket busy: the read calls on its own).
 */
export function leadOrWait(table: InflightTable, keyLo: number, keyHi: number, lane: number, now: number, deadline: number, into: Found): void {
  const words = table.words;
  const lock = keyLock(table, keyLo, keyHi);
  withBucketLock(table, lock, () => {
    const first = firstEntry(lock);
    let free = -1;
    for (let entry = first; entry < first + WAYS_PER_BUCKET; entry++) {
      const state = words[entryWord(table, entry, STATE)]!;
      const waiters = words[entryWord(table, entry, WAITERS)]!;
      const leading = state === CallState.Leading && words[entryWord(table, entry, DEADLINE)]! > now;
      if (leading && words[entryWord(table, entry, KEY_LO)] === keyLo && words[entryWord(table, entry, KEY_HI)] === keyHi && words[entryWord(table, entry, OWNER)] !== lane) {
        words[entryWord(table, entry, WAITERS)] = waiters + 1;
        Atomics.add(words, JOINS, 1);
        into.role = 'wait';
        into.entry = entry;
        into.seq = words[entryWord(table, entry, SEQ)]!;
        return;
      }
      if (free < 0 && waiters === 0 && state !== CallState.Leading) free = entry;
    }
    into.role = free < 0 ? 'none' : 'lead';
    if (free < 0) return;
    release(table, free);
    const at = entryWord(table, free, 0);
    words[at + STATE] = CallState.Leading;
    words[at + KEY_LO] = keyLo;
    words[at + KEY_HI] = keyHi;
    words[at + OWNER] = lane;
    words[at + DEADLINE] = deadline;
    words[at + WAITERS] = 0;
    into.entry = free;
    into.seq = words[entryWord(table, free, SEQ)]!;
  });
}

/** Under the lock: an entry read by everyone gives its bytes back. */
function release(table: InflightTable, entry: number): void {
  const words = table.words;
  if (words[entryWord(table, entry, STATE)] === CallState.Done) Atomics.sub(words, BYTES, words[entryWord(table, entry, LENGTH)]!);
  words[entryWord(table, entry, STATE)] = CallState.Free;
}

/** Which lead a settle is for: the entry, its key's low half, its leader's lane, and its generation. */
export interface Lead {
  readonly entry: number;
  readonly keyLo: number;
  readonly lane: number;
  readonly seq: number;
}

/**
 * Sets a lead's outcome and wakes its waiters, if the entry still holds that very lead (the same
 * generation: a lead abandoned as stale and its entry reused is not touched). The entry is kept
 * for its waiters until `reclaimAt` at most (seconds): a waiter whose thread died never reads it.
 */
function settle(table: InflightTable, lead: Lead, reclaimAt: number, outcome: (at: number) => void): void {
  const words = table.words;
  const at = entryWord(table, lead.entry, 0);
  const waited = withBucketLock(table, entryLock(lead.entry), () => {
    if (words[at + STATE] !== CallState.Leading || words[at + OWNER] !== lead.lane || words[at + SEQ] !== lead.seq || words[at + KEY_LO] !== lead.keyLo) return false;
    outcome(at);
    words[at + DEADLINE] = reclaimAt;
    Atomics.store(words, at + SEQ, (lead.seq + 1) | 0);
    // No one waits (none can join a settled lead): nothing to keep, no one to wake.
    if (words[at + WAITERS] !== 0) return true;
    release(table, lead.entry);
    return false;
  });
  if (waited) Atomics.notify(words, at + SEQ);
}

/** Under the settle: `record` into the entry's slot, its length in LENGTH; false when it does not fit. */
function keptInSlot(table: InflightTable, entry: number, at: number, record: Uint8Array): boolean {
  if (record.byteLength > table.slotBytes) return false;
  table.bytes.set(record, slotOffset(table, entry));
  table.words[at + LENGTH] = record.byteLength;
  return true;
}

/** Leader: the answer, whole; too large for a slot → waiters call on their own. */
export function finishCall(table: InflightTable, lead: Lead, reclaimAt: number, answer: Uint8Array | null): void {
  settle(table, lead, reclaimAt, (at) => {
    const words = table.words;
    if (answer === null || !keptInSlot(table, lead.entry, at, answer)) {
      words[at + STATE] = CallState.Fallback;
      return;
    }
    Atomics.add(words, BYTES, answer.byteLength);
    words[at + STATE] = CallState.Done;
  });
}

/**
 * Leader: the call failed with the error of index `code`; waiters answer it too. `record` names the
 * call (its key), as an answer's does: a waiter of another key that hashed alike calls on its own.
 * One too large for the slot leaves the waiters to call on their own.
 */
export function failCall(table: InflightTable, lead: Lead, reclaimAt: number, code: number, record: Uint8Array): void {
  settle(table, lead, reclaimAt, (at) => {
    const words = table.words;
    if (!keptInSlot(table, lead.entry, at, record)) {
      words[at + STATE] = CallState.Fallback;
      return;
    }
    words[at + CODE] = code;
    words[at + STATE] = CallState.Failed;
  });
}

/** Leader: its answer will not be shared (or the call ended without one): waiters call on their own. */
export function abandonCall(table: InflightTable, lead: Lead, reclaimAt: number): void {
  settle(table, lead, reclaimAt, (at) => {
    table.words[at + STATE] = CallState.Fallback;
  });
}

/** What a waiter reads once woken (or out of time): anything but the outcome of the lead it waited on reads as Fallback. */
export interface Outcome {
  state: CallState;
  code: number;
  answer: Buffer | null;
}

/**
 * A waiter of the lead of generation `seq` woke (or gave up waiting): the outcome, with a DONE
 * entry's answer copied out; the last waiter lets the entry go. A lead not settled yet, or an
 * entry reclaimed since, reads as Fallback (the waiter calls on its own); one that gave up on a
 * lead still running no longer counts as waiting for it.
 */
export function readOutcome(table: InflightTable, entry: number, seq: number): Outcome {
  const words = table.words;
  const at = entryWord(table, entry, 0);
  let gaveUp = false;
  const outcome = withBucketLock(table, entryLock(entry), (): Outcome => {
    // As the word holds it: a generation wraps past 2^31.
    if (words[at + SEQ] !== ((seq + 1) | 0)) {
      gaveUp = countOutOfLead(words, at, seq);
      return { state: CallState.Fallback, code: 0, answer: null };
    }
    const state = words[at + STATE]! as CallState;
    const start = slotOffset(table, entry);
    const answer = state === CallState.Done || state === CallState.Failed ? Buffer.from(table.bytes.subarray(start, start + words[at + LENGTH]!)) : null;
    const waiters = words[at + WAITERS]! - 1;
    words[at + WAITERS] = waiters;
    if (waiters === 0) release(table, entry);
    return { state, code: words[at + CODE]!, answer };
  });
  // Its leader may watch the count (a call that goes on only for its waiters), as leaveWait tells it.
  if (gaveUp) Atomics.notify(words, at + WAITERS);
  return outcome;
}

/**
 * Coordinator: leads of `lane` (its thread exited) or past their deadline will never settle:
 * their waiters call on their own. Settled entries past their reclaim time still counting
 * waiters (whose threads died) are let go. `reclaimAt`: when an entry abandoned now may be reclaimed.
 * The pass of every window (`lane` -1) skips a bucket locked now, till the next window: the lock
 * may be a thread's that died in it, freed only once that thread's exit is handled, on the
 * coordinator's thread, after this pass (spinning on it, the coordinator waited for good).
 */
export function abandonStale(table: InflightTable, lane: number, now: number, reclaimAt: number): number {
  const words = table.words;
  let abandoned = 0;
  for (let entry = 0; entry < table.entries; entry++) {
    const at = entryWord(table, entry, 0);
    const state = Atomics.load(words, at + STATE);
    if (state === CallState.Free) continue;
    if (lane < 0 && bucketLocked(table, entryLock(entry))) continue;
    const keyLo = Atomics.load(words, at + KEY_LO);
    const seq = Atomics.load(words, at + SEQ);
    const owner = Atomics.load(words, at + OWNER);
    const pastDeadline = Atomics.load(words, at + DEADLINE) <= now;
    if (state === CallState.Leading) {
      if (owner !== lane && !pastDeadline) continue;
      abandonCall(table, { entry, keyLo, lane: owner, seq }, reclaimAt);
      abandoned++;
    } else if (pastDeadline && Atomics.load(words, at + WAITERS) > 0) {
      withBucketLock(table, entryLock(entry), () => {
        if (words[at + SEQ] !== seq || words[at + STATE] === CallState.Leading) return;
        words[at + WAITERS] = 0;
        release(table, entry);
        Atomics.store(words, at + SEQ, (seq + 1) | 0);
      });
    }
  }
  return abandoned;
}

export function inflightCounters(table: InflightTable): { joins: number; bytes: number } {
  return { joins: Atomics.load(table.words, JOINS) >>> 0, bytes: Atomics.load(table.words, BYTES) };
}
