/**
 * Rate-limit counters shared by every acceptor thread (issue 13, DESIGN's "Limiter table"): per
 * key (a route and a tenant, header value or address, hashed), the sliding-window counts of
 * resilience/sliding-window.ts, so a limit of L holds for the whole process, not per thread.
 * Set-associative (bucket-table.ts): a key's bucket is WAYS entries, read and changed under the
 * bucket's lock, so a check and its count are one step for all threads; a full bucket gives up
 * the key used least recently. No slots: counters only.
 *
 * Layout (bucket-table.ts: header, bucket locks, entries), Int32 words:
 *   EVICTIONS   keys given up for new ones, ever     acceptor Atomics.add(+1) under the bucket lock
 *   USES        hits so far (wraps): the order of    acceptor Atomics.add(+1) per hit
 *               use
 *   per entry e, ENTRY_WORDS, all written under its bucket's lock:
 *     USED        0: free; else the USES value of its last hit (eviction order, compared as an age)
 *     KEY_LO, KEY_HI   the key's 64-bit hash
 *     WINDOW      the fixed window CURRENT counts (windows of the key's length since TABLE_EPOCH_MS)
 *     PREVIOUS, CURRENT  requests allowed in the window before, and in this one
 */
import { remaining, rolledCurrent, rolledPrevious, slidingCount, untilOneFits, untilReset, windowOf } from '../resilience/sliding-window.js';
import {
  attachBucketTable,
  createBucketTable,
  entryWord,
  firstEntry,
  keyLock,
  lockBucket,
  TABLE_EPOCH_MS,
  unlockBucket,
  WAYS,
  type BucketTable,
} from './bucket-table.js';

/** Header words after bucket-table.ts's ENTRY_COUNT and SLOT_BYTES. */
export const EVICTIONS = 2;
export const USES = 3;

export const USED = 0;
export const KEY_LO = 1;
export const KEY_HI = 2;
export const WINDOW = 3;
export const PREVIOUS = 4;
export const CURRENT = 5;
export const ENTRY_WORDS = 6;


export type LimiterTable = BucketTable;

/**
 * How late a thread's clock reading may reach the bucket lock and still count as late rather than
 * as a clock stepped back: a thread descheduled between the two (a CPU quota's throttling, a busy
 * host, a lock holder preempted) took over 300 ms on a 2-core machine under load.
 */
const MAX_LATE_READING_MS = 2_000;

export function createLimiterTable(keys: number): LimiterTable {
  return createBucketTable(keys, 0, ENTRY_WORDS);
}

/** The thread of lane `lane`'s view of the table. */
export function attachLimiterTable(buffer: SharedArrayBuffer, lane: number): LimiterTable {
  return attachBucketTable(buffer, ENTRY_WORDS, lane);
}

/** A hit's verdict, and what the RateLimit headers say. */
export interface Hit {
  allowed: boolean;
  /** Requests left in the sliding window after this one. */
  remaining: number;
  /** Milliseconds until the current fixed window ends. */
  resetMs: number;
  /** Refused: milliseconds until one more request would fit, if no other came (Retry-After). */
  retryMs: number;
}

/**
 * Acceptor: one request for key (keyLo, keyHi) under a limit of `limit` per `windowMs`, at `nowMs`:
 * counted if allowed. Runs on every request of a limited route, so it allocates nothing: the lock
 * is taken inline rather than through withBucketLock's closure.
 */
export function hitLimit(table: LimiterTable, keyLo: number, keyHi: number, limit: number, windowMs: number, nowMs: number, into: Hit): void {
  const words = table.words;
  const lock = keyLock(table, keyLo, keyHi);
  // Window numbers count from the tables' epoch, and are kept and compared as Int32s, wrapping:
  // 100 ms windows pass 2³¹ in 2031, and a number stored wrapped never equalled one read whole.
  const read = nowMs - TABLE_EPOCH_MS;
  const readWindowWhole = windowOf(read, windowMs);
  const readWindow = readWindowWhole | 0;
  lockBucket(table, lock);
  try {
    const use = (Atomics.add(words, USES, 1) + 1) | 1; // never 0: 0 marks a free entry
    const at = entryWord(table, findOrEvict(table, lock, keyLo, keyHi, use, readWindow), 0);
    const last = words[at + WINDOW]!;
    // How far the entry's window is ahead of this reading's (negative: behind it).
    const ahead = (last - readWindow) | 0;
    // A reading behind the entry's window (its thread read the clock, then waited for the lock or
    // was descheduled, while another thread rolled the key) counts at that window's start: it must
    // not reset the counts, letting a window's worth of requests through. Only a reading further
    // behind than any such wait is a clock stepped back: counting on from the entry's window would
    // refuse the key until real time caught up, so it starts afresh.
    const behind = ahead > 0 && (ahead - 1) * windowMs < MAX_LATE_READING_MS;
    const window = behind ? last : readWindow;
    const now = behind ? (readWindowWhole + ahead) * windowMs : read;
    // Rolled by the windows passed since the entry's, as a difference that survives the wrap.
    const passed = behind ? 0 : -ahead;
    const previous = rolledPrevious(passed, words[at + PREVIOUS]!, words[at + CURRENT]!);
    let current = rolledCurrent(passed, words[at + CURRENT]!);
    const allowed = slidingCount(previous, current + 1, now, windowMs) <= limit;
    if (allowed) current++;
    words[at + USED] = use;
    words[at + WINDOW] = window;
    words[at + PREVIOUS] = previous;
    words[at + CURRENT] = current;
    into.allowed = allowed;
    into.remaining = remaining(limit, slidingCount(previous, current, now, windowMs));
    into.resetMs = untilReset(now, windowMs);
    into.retryMs = allowed ? 0 : untilOneFits(limit, previous, current, now % windowMs, windowMs);
  } finally {
    unlockBucket(table, lock);
  }
}

/** Under the bucket's lock: the key's entry, or the least recently used one given to it (fresh counts). */
function findOrEvict(table: LimiterTable, lock: number, keyLo: number, keyHi: number, use: number, window: number): number {
  const words = table.words;
  const first = firstEntry(lock);
  let victim = first;
  let victimAge = -1;
  for (let e = first; e < first + WAYS; e++) {
    const used = words[entryWord(table, e, USED)]!;
    if (used !== 0 && words[entryWord(table, e, KEY_LO)] === keyLo && words[entryWord(table, e, KEY_HI)] === keyHi) return e;
    const age = used === 0 ? 2 ** 32 : (use - used) >>> 0;
    if (age > victimAge) {
      victim = e;
      victimAge = age;
    }
  }
  if (victimAge < 2 ** 32) Atomics.add(words, EVICTIONS, 1);
  const at = entryWord(table, victim, 0);
  words[at + KEY_LO] = keyLo;
  words[at + KEY_HI] = keyHi;
  words[at + WINDOW] = window;
  words[at + PREVIOUS] = 0;
  words[at + CURRENT] = 0;
  return victim;
}

export function limiterEvictions(table: LimiterTable): number {
  return Atomics.load(table.words, EVICTIONS) >>> 0;
}
