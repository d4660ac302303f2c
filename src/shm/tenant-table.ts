import { Buffer } from 'node:buffer';
import { randomInt } from 'node:crypto';
import { mixKey } from './key-mix.js';

/**
 * Per-tenant counters in a SharedArrayBuffer (issue 4): acceptors claim a tenant's slot with
 * Atomics.compareExchange and count every request with Atomics.add, with no lock, no message and no
 * Map on the request path; the coordinator harvests the counters once per scoring window and
 * evicts.
 *
 * Keys are 64-bit hashes of tenant ids (two Int32 halves), seeded for the process (hash.ts
 * newTableKeySeed), the same in every thread. A key lives only in its bucket, the BUCKET_SLOTS
 * slots chosen by both halves mixed with the table's random seed, so eviction can empty a slot
 * without breaking a probe chain, and nobody can work out in advance which ids share the bucket of
 * a tenant they would lock out of it (hash.ts). Slots are 4× the tenant limit rounded up to a
 * power of two, 1,024 at least: at the default 10,000 tenants a bucket holds 1.2 keys on average,
 * and the chance that any of the 8,192 buckets gets a 9th key (whose requests then count as
 * untracked) is about 5%.
 *
 * Layout, Int32 words:
 *   header  [HEADER_WORDS]
 *     SLOT_COUNT   slots, a power of two                 coordinator, once at creation
 *     NOW          coarse clock for LAST_SEEN            coordinator, Atomics.store each tick
 *     UNTRACKED    requests whose bucket was full        acceptor, Atomics.add
 *     BUCKET_SEED  random, mixed into a key's bucket     coordinator, once at creation
 *   slots   [SLOT_COUNT × SLOT_WORDS] at HEADER_WORDS
 *     STATE        EMPTY / LIVE, or a claim in progress: acceptor CAS EMPTY→CLAIMED_BY + its lane, then
 *                  CLAIMED_BY + the claiming thread's    store LIVE; coordinator store CLAIMING, clear,
 *                  lane, or CLAIMING (the coordinator    store EMPTY (evictSlot), and CAS a dead thread's
 *                  clearing a slot)                      CLAIMED_BY + lane→CLAIMING, clear, store EMPTY;
 *                                                        both Atomics.notify after leaving a claim
 *     KEY_LO/HI    the tenant's 64-bit key               acceptor Atomics.store while CLAIMING
 *     REQUESTS     requests this window                  acceptor Atomics.add; coordinator Atomics.exchange(0)
 *     OWN_ANSWERS  of those, the ones no node answered   acceptor Atomics.add; coordinator Atomics.exchange(0)
 *                  (refused, replayed, shared): counted,
 *                  never scored
 *     ERRORS       5xx answers of its nodes this window  acceptor Atomics.add; coordinator Atomics.exchange(0)
 *     LATENCY_US   node-answered requests' latency sum   acceptor Atomics.add; coordinator Atomics.exchange(0)
 *                  this window, µs, low 32 bits unsigned
 *     LATENCY_WRAPS  times LATENCY_US wrapped past 2³²    acceptor Atomics.add on the add that wrapped it;
 *                  this window (a tenant at 1,000 req/s  coordinator Atomics.exchange(0)
 *                  answered in 100 ms sums 6,000 s in a 60 s window, past 2³² µs = 4,295 s)
 *     LAST_SEEN    NOW at the tenant's last request      acceptor Atomics.store
 *     ID_LENGTH    bytes of the tenant id                 acceptor Atomics.store while CLAIMING
 *     SHARD_K      nodes the tenant is spread over, 1–5   coordinator Atomics.store when hysteresis
 *                  (0 in a fresh slot reads as 1)         moves k; acceptor Atomics.load per request
 *   ids     Uint8[SLOT_COUNT × MAX_ID_BYTES] after the slots: each slot's tenant id (ASCII, validated
 *           before it gets here), written by the acceptor while CLAIMING, read by the coordinator
 */
export const SLOT_COUNT = 0;
export const NOW = 1;
export const UNTRACKED = 2;
export const BUCKET_SEED = 3;
export const HEADER_WORDS = 4;

export const STATE = 0;
export const KEY_LO = 1;
export const KEY_HI = 2;
export const REQUESTS = 3;
export const ERRORS = 4;
export const LATENCY_US = 5;
export const LAST_SEEN = 6;
export const ID_LENGTH = 7;
export const SHARD_K = 8;
export const LATENCY_WRAPS = 9;
export const OWN_ANSWERS = 10;
export const SLOT_WORDS = 11;
/** The longest tenant id (routing/tenant-id.ts enforces it before a request gets here). */
export const MAX_ID_BYTES = 128;

export const EMPTY = 0;
/** The coordinator clearing a slot. */
export const CLAIMING = 1;
export const LIVE = 2;
/** Plus the lane: an acceptor thread's claim, which the coordinator can take back if the thread dies in it. */
export const CLAIMED_BY = 3;

export const BUCKET_SLOTS = 8;
const SLOTS_PER_TENANT = 4;
/**
 * A claim holds a slot in CLAIMING for a few stores, but its thread can be preempted right there;
 * a thread that meets it then waits on the slot (woken by Atomics.notify) for up to
 * CLAIM_WAIT_MS at a time, MAX_CLAIM_WAITS times, rather than spin. Spinning 1,024 rescans gave
 * up (and left requests untracked) under CPU contention in the two-thread test.
 */
const CLAIM_WAIT_MS = 1;
const MAX_CLAIM_WAITS = 20;
/** Rescans after losing a CAS race for an empty slot. */
const MAX_CLAIM_RACES = 64;

export interface TenantTable {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  /** A Buffer, so the coordinator decodes an id without a view of its own (readTenantId). */
  readonly ids: Buffer;
  readonly slotCount: number;
  readonly bucketMask: number;
  readonly bucketSeed: number;
  /** The STATE this view's claims store: CLAIMED_BY + the acceptor's lane. */
  readonly claimMark: number;
}

/**
 * At least this many slots (about 160 KB): with random buckets, a table sized 4× a small limit
 * would fill a bucket now and then (41 tenants in 16 buckets: ~3%), though the limit is far off.
 */
const MIN_SLOTS = 1024;

export function slotCountFor(maxTenants: number): number {
  return Math.max(MIN_SLOTS, 2 ** Math.ceil(Math.log2(Math.max(1, maxTenants) * SLOTS_PER_TENANT)));
}

/** Coordinator: a table sized for `maxTenants` live tenants. */
export function createTenantTable(maxTenants: number): TenantTable {
  const slotCount = slotCountFor(maxTenants);
  const buffer = new SharedArrayBuffer(idsOffset(slotCount) + slotCount * MAX_ID_BYTES);
  const header = new Int32Array(buffer, 0, HEADER_WORDS);
  Atomics.store(header, SLOT_COUNT, slotCount);
  Atomics.store(header, BUCKET_SEED, randomInt(2 ** 31));
  return attachTenantTable(buffer);
}

/** Views over a table received from another thread; `lane`: the acceptor's, whose claims they make. */
export function attachTenantTable(buffer: SharedArrayBuffer, lane = 0): TenantTable {
  const header = new Int32Array(buffer, 0, HEADER_WORDS);
  const slotCount = Atomics.load(header, SLOT_COUNT);
  const words = new Int32Array(buffer, 0, HEADER_WORDS + slotCount * SLOT_WORDS);
  const ids = Buffer.from(buffer, idsOffset(slotCount), slotCount * MAX_ID_BYTES);
  return { buffer, words, ids, slotCount, bucketMask: slotCount / BUCKET_SLOTS - 1, bucketSeed: Atomics.load(header, BUCKET_SEED), claimMark: CLAIMED_BY + lane };
}

/** The first slot of key (lo, hi)'s bucket: both halves mixed with the table's seed (key-mix.ts). */
export function bucketOf(table: TenantTable, keyLo: number, keyHi: number): number {
  return (mixKey(keyLo, keyHi, table.bucketSeed) & table.bucketMask) * BUCKET_SLOTS;
}

function idsOffset(slotCount: number): number {
  return (HEADER_WORDS + slotCount * SLOT_WORDS) * Int32Array.BYTES_PER_ELEMENT;
}

/** Word offset of a slot's first field. */
export function slotOffset(slot: number): number {
  return HEADER_WORDS + slot * SLOT_WORDS;
}

/**
 * Acceptor: the slot of key (lo, hi), claiming an empty one in its bucket on first sight (and
 * storing `id`, the tenant id the key was hashed from); -1 when the bucket is full (the caller
 * counts the request as untracked).
 */
export function findOrClaim(table: TenantTable, keyLo: number, keyHi: number, id: string): number {
  const words = table.words;
  const first = bucketOf(table, keyLo, keyHi);
  let waits = 0;
  let races = 0;
  while (waits <= MAX_CLAIM_WAITS && races <= MAX_CLAIM_RACES) {
    let empty = -1;
    let claimingAt = -1;
    let claimState = EMPTY;
    for (let slot = first; slot < first + BUCKET_SLOTS; slot++) {
      const at = slotOffset(slot);
      const state = Atomics.load(words, at + STATE);
      if (state === LIVE) {
        if (Atomics.load(words, at + KEY_LO) === keyLo && Atomics.load(words, at + KEY_HI) === keyHi) {
          // Seen as it starts, not only as it ends: a tenant whose requests run long is not the least recently seen.
          Atomics.store(words, at + LAST_SEEN, Atomics.load(words, NOW));
          return slot;
        }
      } else if (state !== EMPTY) {
        // Perhaps our key, about to go live: look again once it has.
        claimingAt = at;
        claimState = state;
      } else if (empty < 0) {
        empty = slot;
      }
    }
    if (claimingAt >= 0) {
      waits++;
      Atomics.wait(words, claimingAt + STATE, claimState, CLAIM_WAIT_MS);
      continue;
    }
    if (empty < 0) return -1;
    const at = slotOffset(empty);
    if (Atomics.compareExchange(words, at + STATE, EMPTY, table.claimMark) !== EMPTY) {
      races++;
      continue;
    }
    Atomics.store(words, at + KEY_LO, keyLo);
    Atomics.store(words, at + KEY_HI, keyHi);
    // What a request of the tenant evicted from here added after its eviction is not this one's.
    Atomics.store(words, at + REQUESTS, 0);
    Atomics.store(words, at + OWN_ANSWERS, 0);
    Atomics.store(words, at + ERRORS, 0);
    Atomics.store(words, at + LATENCY_US, 0);
    Atomics.store(words, at + LATENCY_WRAPS, 0);
    const length = Math.min(id.length, MAX_ID_BYTES);
    const idAt = empty * MAX_ID_BYTES;
    for (let i = 0; i < length; i++) table.ids[idAt + i] = id.charCodeAt(i);
    Atomics.store(words, at + ID_LENGTH, length);
    Atomics.store(words, at + LAST_SEEN, Atomics.load(words, NOW));
    Atomics.store(words, at + STATE, LIVE);
    Atomics.notify(words, at + STATE);
    return empty;
  }
  return -1;
}

/** Acceptor: one finished request of the tenant in `slot` that a node answered (or failed). */
export function recordRequest(table: TenantTable, slot: number, keyLo: number, keyHi: number, latencyUs: number, serverError: boolean): void {
  const words = table.words;
  const at = slotOffset(slot);
  if (!holds(words, at, keyLo, keyHi)) return;
  Atomics.add(words, at + REQUESTS, 1);
  if (serverError) Atomics.add(words, at + ERRORS, 1);
  // Exact while latencyUs < 2³²: the add wrapped the word iff the old value and it sum past 2³² - 1.
  if ((Atomics.add(words, at + LATENCY_US, latencyUs) >>> 0) + latencyUs > 0xffffffff) Atomics.add(words, at + LATENCY_WRAPS, 1);
  Atomics.store(words, at + LAST_SEEN, Atomics.load(words, NOW));
}

/**
 * Acceptor: one finished request of the tenant in `slot` that no node answered: refused (rate
 * limit, open circuit, saturation), replayed, or served from another request's call. It says
 * nothing of the tenant's load on its nodes: a tenant refused in bulk would otherwise score its
 * near-zero latencies, and every tenant of a cluster answering 503 itself the 5xx penalty.
 */
export function recordOwnAnswer(table: TenantTable, slot: number, keyLo: number, keyHi: number): void {
  const words = table.words;
  const at = slotOffset(slot);
  if (!holds(words, at, keyLo, keyHi)) return;
  Atomics.add(words, at + REQUESTS, 1);
  Atomics.add(words, at + OWN_ANSWERS, 1);
  Atomics.store(words, at + LAST_SEEN, Atomics.load(words, NOW));
}

/** The slot at `at` is live with key (lo, hi): its tenant may have been evicted while a request ran, and the slot given to another since. */
function holds(words: Int32Array, at: number, keyLo: number, keyHi: number): boolean {
  return Atomics.load(words, at + STATE) === LIVE && Atomics.load(words, at + KEY_LO) === keyLo && Atomics.load(words, at + KEY_HI) === keyHi;
}

/**
 * Acceptor: how many nodes the tenant of key (lo, hi), found in `slot`, is spread over
 * (routing/shard-factor.ts); 1 once the slot holds another tenant (evicted since it was found,
 * while the request waited on Redis, a multiplexed call, or a retry's backoff).
 */
export function shardFactor(table: TenantTable, slot: number, keyLo: number, keyHi: number): number {
  const words = table.words;
  const at = slotOffset(slot);
  return holds(words, at, keyLo, keyHi) ? Math.max(1, Atomics.load(words, at + SHARD_K)) : 1;
}

/** Coordinator: a new shard factor for the tenant in `slot`, from the next request on. */
export function setShardFactor(table: TenantTable, slot: number, k: number): void {
  Atomics.store(table.words, slotOffset(slot) + SHARD_K, k);
}

/** Acceptor: a request whose tenant found no slot. */
export function recordUntracked(table: TenantTable): void {
  Atomics.add(table.words, UNTRACKED, 1);
}

/** Requests whose tenant found no room in its bucket, since start (coordinator, for views). */
export function untrackedCount(table: TenantTable): number {
  // Unsigned: a scanner filling a bucket passes 2^31 in days.
  return Atomics.load(table.words, UNTRACKED) >>> 0;
}

/** What harvestWindow reports per live tenant (positional: a window visits every live slot). */
export type HarvestVisitor = (
  slot: number,
  keyLo: number,
  keyHi: number,
  requests: number,
  ownAnswers: number,
  errors5xx: number,
  latencySumUs: number,
  lastSeen: number,
) => void;

/** Coordinator: every live tenant's window counters, taken (and zeroed) atomically per field. */
export function harvestWindow(table: TenantTable, visit: HarvestVisitor): void {
  const words = table.words;
  for (let slot = 0; slot < table.slotCount; slot++) {
    const at = slotOffset(slot);
    if (Atomics.load(words, at + STATE) !== LIVE) continue;
    visit(
      slot,
      Atomics.load(words, at + KEY_LO),
      Atomics.load(words, at + KEY_HI),
      Atomics.exchange(words, at + REQUESTS, 0),
      Atomics.exchange(words, at + OWN_ANSWERS, 0),
      Atomics.exchange(words, at + ERRORS, 0),
      takeLatencySum(words, at),
      Atomics.load(words, at + LAST_SEEN),
    );
  }
}

/**
 * The window's latency sum, µs. The low bits are taken first, so a wrap's count, added just after
 * the add that wrapped them, is missed only when the harvest falls between those two adds: then
 * this window reads 2³² µs short and the next one as much over.
 */
function takeLatencySum(words: Int32Array, at: number): number {
  const low = Atomics.exchange(words, at + LATENCY_US, 0) >>> 0;
  return Atomics.exchange(words, at + LATENCY_WRAPS, 0) * 2 ** 32 + low;
}

/** Coordinator: the tenant id stored with a live slot (read once per tenant at most, when first needed: tracked-tenant.ts). */
export function readTenantId(table: TenantTable, slot: number): string {
  const length = Atomics.load(table.words, slotOffset(slot) + ID_LENGTH);
  return table.ids.toString('latin1', slot * MAX_ID_BYTES, slot * MAX_ID_BYTES + length);
}

/**
 * Coordinator: frees a slot. An acceptor that found the tenant just before may still add to the
 * cleared counters; evicted tenants are the least recently seen, so that is rare, and it can only
 * credit a request or two to the slot's next tenant, never lose a live tenant's count.
 */
export function evictSlot(table: TenantTable, slot: number): void {
  const at = slotOffset(slot);
  Atomics.store(table.words, at + STATE, CLAIMING);
  clearClaimedSlot(table.words, at);
}

/**
 * Coordinator, once the thread of `lane` has exited: the slots it was claiming go back empty.
 * A thread stopped between its claim and LIVE (a worker's out-of-memory end) left the slot
 * claimed for good, and every request of a new tenant of that bucket waited ~20 ms on it, then
 * went untracked. Returns how many.
 */
export function releaseClaimsOf(table: TenantTable, lane: number): number {
  const words = table.words;
  let released = 0;
  for (let slot = 0; slot < table.slotCount; slot++) {
    const at = slotOffset(slot);
    if (Atomics.compareExchange(words, at + STATE, CLAIMED_BY + lane, CLAIMING) !== CLAIMED_BY + lane) continue;
    clearClaimedSlot(words, at);
    released++;
  }
  return released;
}

/** A slot the coordinator marked CLAIMING: its fields cleared, then EMPTY, and whoever waits on it woken. */
function clearClaimedSlot(words: Int32Array, at: number): void {
  for (let field = KEY_LO; field < SLOT_WORDS; field++) Atomics.store(words, at + field, 0);
  Atomics.store(words, at + STATE, EMPTY);
  Atomics.notify(words, at + STATE);
}

/** Coordinator: the coarse clock acceptors stamp LAST_SEEN with. */
export function setNow(table: TenantTable, now: number): void {
  Atomics.store(table.words, NOW, now);
}
