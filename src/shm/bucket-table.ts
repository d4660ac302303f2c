import { constants } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { mixKey } from './key-mix.js';

/**
 * What the set-associative shared tables (rate limits, idempotency keys, multiplexed calls) have
 * in common: a header whose first two words are ENTRY_COUNT and SLOT_BYTES and whose last is
 * BUCKET_SEED (coordinator, once at creation with Atomics.store), one lock word per bucket of WAYS
 * entries from LOCKS_OFFSET (0 free, else its holder's mark: taken with Atomics.compareExchange,
 * given back with Atomics.store; the coordinator frees those of a thread that died holding them
 * with Atomics.compareExchange, releaseLocksOf), the entries (`entryWords` Int32 words each, their
 * fields named in each table's module), then one byte slot per entry. Each table's module documents its own header words
 * (from 2, below BUCKET_SEED) and entry fields.
 *
 * A key's bucket mixes both halves of its 64-bit hash with the table's random seed: an
 * Idempotency-Key's hash is unseeded xxHash64 (every instance names it alike in Redis), so without
 * the seed anyone could work out offline which keys share a bucket, and WAYS + 1 of them would push
 * a key out (a done idempotency key) or keep it out. (The other tables' keys are seeded anyway:
 * hash.ts newTableKeySeed.)
 */

export const ENTRY_COUNT = 0;
export const SLOT_BYTES = 1;
/** Random, mixed into every key's bucket: the header's last word. */
export const BUCKET_SEED = 15;
/** Locks start a cache line (16 words) in, after the header. */
export const LOCKS_OFFSET = 16;
export const WAYS = 8;

export interface BucketTable {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
  readonly entries: number;
  readonly slotBytes: number;
  readonly entryWords: number;
  readonly buckets: number;
  readonly seed: number;
  /** Word offset of entry 0. */
  readonly entriesOffset: number;
  /** Byte offset of entry 0's slot. */
  readonly dataOffset: number;
  /** What this thread writes into a lock word it holds: its lane + 1, or COORDINATOR_HOLDER. */
  readonly holder: number;
}

/** The coordinator's mark in a lock word it holds (a thread's is its lane + 1). */
const COORDINATOR_HOLDER = -1;

function layout(entries: number, entryWords: number): { entriesOffset: number; dataOffset: number } {
  const entriesOffset = LOCKS_OFFSET + entries / WAYS;
  return { entriesOffset, dataOffset: (entriesOffset + entries * entryWords) * Int32Array.BYTES_PER_ELEMENT };
}

/** The largest table a thread can view (its `bytes`: a typed array's length limit). */
export const MAX_TABLE_BYTES = constants.MAX_LENGTH;

function wholeBuckets(entries: number): number {
  return Math.ceil(entries / WAYS) * WAYS;
}

/** Bytes of a table of `entries` entries (rounded up to whole buckets) with `slotBytes` each. */
export function bucketTableBytes(entries: number, slotBytes: number, entryWords: number): number {
  const count = wholeBuckets(entries);
  return layout(count, entryWords).dataOffset + count * slotBytes;
}

/** Coordinator: a table of `entries` entries (rounded up to whole buckets) with `slotBytes` each. */
export function createBucketTable(entries: number, slotBytes: number, entryWords: number): BucketTable {
  const count = wholeBuckets(entries);
  const buffer = new SharedArrayBuffer(bucketTableBytes(entries, slotBytes, entryWords));
  const words = new Int32Array(buffer);
  Atomics.store(words, ENTRY_COUNT, count);
  Atomics.store(words, SLOT_BYTES, slotBytes);
  Atomics.store(words, BUCKET_SEED, randomInt(2 ** 32) | 0);
  return tableView(buffer, entryWords, COORDINATOR_HOLDER);
}

/** An acceptor thread's view of a table the coordinator made: the thread of lane `lane`. */
export function attachBucketTable(buffer: SharedArrayBuffer, entryWords: number, lane: number): BucketTable {
  return tableView(buffer, entryWords, lane + 1);
}

function tableView(buffer: SharedArrayBuffer, entryWords: number, holder: number): BucketTable {
  const words = new Int32Array(buffer);
  const entries = Atomics.load(words, ENTRY_COUNT);
  const slotBytes = Atomics.load(words, SLOT_BYTES);
  const seed = Atomics.load(words, BUCKET_SEED);
  return { buffer, words, bytes: new Uint8Array(buffer), entries, slotBytes, entryWords, buckets: entries / WAYS, seed, ...layout(entries, entryWords), holder };
}

/** Word offset of one of entry e's fields. */
export function entryWord(table: BucketTable, entry: number, field: number): number {
  return table.entriesOffset + entry * table.entryWords + field;
}

/** Byte offset of entry e's slot. */
export function slotOffset(table: BucketTable, entry: number): number {
  return table.dataOffset + entry * table.slotBytes;
}

/** The lock word of the bucket key (keyLo, keyHi) belongs to. */
export function keyLock(table: BucketTable, keyLo: number, keyHi: number): number {
  return LOCKS_OFFSET + (mixKey(keyLo, keyHi, table.seed) % table.buckets);
}

/** The lock word of the bucket holding entry `entry`. */
export function entryLock(entry: number): number {
  return LOCKS_OFFSET + Math.floor(entry / WAYS);
}

/** The first entry of the bucket whose lock word is `lock`. */
export function firstEntry(lock: number): number {
  return (lock - LOCKS_OFFSET) * WAYS;
}

/** Takes the lock word `lock`, for a scan of one bucket or one slot copy, never I/O: held so briefly that spinning is cheaper than sleeping. */
export function lockBucket(table: BucketTable, lock: number): void {
  while (Atomics.compareExchange(table.words, lock, 0, table.holder) !== 0);
}

/**
 * Coordinator, once the thread of `lane` has exited: the lock words it held go free. A thread
 * stopped inside a critical section (a worker's out-of-memory end) held its bucket for good, and
 * whoever took it next, the coordinator's own release of that thread's shares first, spun forever.
 */
export function releaseLocksOf(table: BucketTable, lane: number): number {
  let released = 0;
  for (let lock = LOCKS_OFFSET; lock < LOCKS_OFFSET + table.buckets; lock++) {
    if (Atomics.compareExchange(table.words, lock, lane + 1, 0) === lane + 1) released++;
  }
  return released;
}

/** Whether a thread holds the lock word `lock` now. */
export function bucketLocked(table: BucketTable, lock: number): boolean {
  return Atomics.load(table.words, lock) !== 0;
}

export function unlockBucket(table: BucketTable, lock: number): void {
  Atomics.store(table.words, lock, 0);
}

/** Runs `body` holding the lock word `lock` (lockBucket). */
export function withBucketLock<T>(table: BucketTable, lock: number, body: () => T): T {
  lockBucket(table, lock);
  try {
    return body();
  } finally {
    unlockBucket(table, lock);
  }
}

/** 2025-01-01: times kept in these tables count from it, so they fit an Int32 and read the same on every thread. */
export const TABLE_EPOCH_MS = 1_735_689_600_000;

/** Seconds since TABLE_EPOCH_MS (expiries and deadlines): an Int32 holds 68 years of them. */
export function tableSeconds(nowMs: number): number {
  return Math.floor((nowMs - TABLE_EPOCH_MS) / 1000);
}
