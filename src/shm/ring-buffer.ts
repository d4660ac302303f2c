import { locate, type RingData } from '../routing/ring.js';
import { fillRingIndex, indexBitsFor, indexLength } from '../routing/ring-index.js';

/**
 * One cluster's consistent-hash ring in a SharedArrayBuffer, double-buffered with a sequence number
 * per buffer (a seqlock per buffer). The coordinator is the only writer; acceptors only read and
 * never wait on the writer.
 *
 * Layout (all offsets in bytes from the start of the buffer):
 *   header   Int32[HEADER_WORDS]          at 0
 *   hashes   Uint32[2 × capacity]         at HASHES_OFFSET       buffer b uses [b × capacity, …)
 *   owners   Uint16[2 × capacity]         at ownersOffset(cap)   node index per point, same positions
 *   index    Uint32[2 × indexLength(bits)] at indexOffset(cap)   bucket index (routing/ring-index.ts)
 *                                                                 per buffer, written with its points
 *
 * Header words, each written by the coordinator only:
 *   ACTIVE     which buffer (0/1) readers use             Atomics.store after the buffer is complete
 *   SEQ_0/1    per-buffer sequence: odd while writing      Atomics.add(+1) before and after the write
 *   COUNT_0/1  points in use in that buffer               Atomics.store while its SEQ is odd
 *   CAPACITY   points each buffer can hold                 set once at creation
 *   INDEX_BITS bucket index size (2^bits buckets)         set once at creation, from CAPACITY
 */
export const ACTIVE = 0;
export const SEQ_0 = 1;
export const SEQ_1 = 2;
export const COUNT_0 = 3;
export const COUNT_1 = 4;
export const CAPACITY = 5;
export const INDEX_BITS = 6;
export const HEADER_WORDS = 8;
export const HEADER_BYTES = HEADER_WORDS * Int32Array.BYTES_PER_ELEMENT;
export const HASHES_OFFSET = HEADER_BYTES;

/**
 * A reader retries only when the writer lapped it (rewrote the buffer it was reading), which takes
 * two publishes during one lookup. The bound outlasts even 1,000 back-to-back rebuilds against a
 * reader still running unoptimised code (64 did not: test/shm/ring-buffer.test.ts); the coordinator
 * publishes at most every few milliseconds, so in service the first attempt succeeds.
 */
export const MAX_READ_ATTEMPTS = 1024;

export interface SharedRing {
  readonly buffer: SharedArrayBuffer;
  readonly header: Int32Array;
  readonly hashes: Uint32Array;
  readonly owners: Uint16Array;
  readonly index: Uint32Array;
  readonly capacity: number;
  readonly indexBits: number;
  /** Entries of one buffer's index. */
  readonly indexStride: number;
}

function ownersOffset(capacity: number): number {
  return HASHES_OFFSET + 2 * capacity * Uint32Array.BYTES_PER_ELEMENT;
}

function indexOffset(capacity: number): number {
  // Uint32 views need 4-byte alignment after the Uint16 owners.
  const end = ownersOffset(capacity) + 2 * capacity * Uint16Array.BYTES_PER_ELEMENT;
  return Math.ceil(end / Uint32Array.BYTES_PER_ELEMENT) * Uint32Array.BYTES_PER_ELEMENT;
}

export function byteLengthFor(capacity: number): number {
  return indexOffset(capacity) + 2 * indexLength(indexBitsFor(capacity)) * Uint32Array.BYTES_PER_ELEMENT;
}

export function createSharedRing(capacity: number): SharedRing {
  const buffer = new SharedArrayBuffer(byteLengthFor(capacity));
  const header = new Int32Array(buffer, 0, HEADER_WORDS);
  Atomics.store(header, CAPACITY, capacity);
  Atomics.store(header, INDEX_BITS, indexBitsFor(capacity));
  return viewSharedRing(buffer);
}

/** Typed views over a buffer received from another thread. */
export function attachSharedRing(buffer: SharedArrayBuffer): SharedRing {
  return viewSharedRing(buffer);
}

function viewSharedRing(buffer: SharedArrayBuffer): SharedRing {
  const header = new Int32Array(buffer, 0, HEADER_WORDS);
  const capacity = Atomics.load(header, CAPACITY);
  const indexBits = Atomics.load(header, INDEX_BITS);
  const indexStride = indexLength(indexBits);
  return {
    buffer,
    header,
    hashes: new Uint32Array(buffer, HASHES_OFFSET, 2 * capacity),
    owners: new Uint16Array(buffer, ownersOffset(capacity), 2 * capacity),
    index: new Uint32Array(buffer, indexOffset(capacity), 2 * indexStride),
    capacity,
    indexBits,
    indexStride,
  };
}

/** Coordinator only: fill the inactive buffer, then flip ACTIVE to it. */
export function publishRing(ring: SharedRing, data: RingData): void {
  const count = data.hashes.length;
  if (count > ring.capacity) {
    throw new RangeError(`ring of ${count} points exceeds the shared capacity of ${ring.capacity}`);
  }
  const target = Atomics.load(ring.header, ACTIVE) ^ 1;
  const seq = target === 0 ? SEQ_0 : SEQ_1;
  const base = target * ring.capacity;
  Atomics.add(ring.header, seq, 1); // odd: readers that land here retry
  ring.hashes.set(data.hashes, base);
  ring.owners.set(data.owners, base);
  fillRingIndex(ring.hashes, base, count, ring.index, target * ring.indexStride, ring.indexBits);
  Atomics.store(ring.header, target === 0 ? COUNT_0 : COUNT_1, count);
  Atomics.add(ring.header, seq, 1); // even: consistent again
  Atomics.store(ring.header, ACTIVE, target);
}

/**
 * What a reader does with the ring once it has found a key's point: the point is
 * `owners[base + start]` of `count` points in the active buffer. The selection walk implements it
 * (acceptor/phases/select.ts), so this module keeps the layout and the seqlock and knows nothing of
 * how a node is chosen.
 */
export interface RingVisitor {
  visit(owners: Uint16Array, base: number, count: number, start: number): number;
}

const OWNER: RingVisitor = { visit: (owners, base, _count, start) => owners[base + start]! };

/** Node index owning `keyHash`, or -1 when the ring is empty. */
export function lookupShared(ring: SharedRing, keyHash: number): number {
  return readRing(ring, keyHash, OWNER);
}

/**
 * Locates `keyHash`'s point and runs `visitor` from it, all inside one seqlock read, so a walk
 * never mixes two rings: a read torn by the writer is done again. Returns what the visitor
 * returned, or -1 when the ring is empty (or, never in practice, when MAX_READ_ATTEMPTS reads in
 * a row were torn).
 */
export function readRing(ring: SharedRing, keyHash: number, visitor: RingVisitor): number {
  const header = ring.header;
  for (let attempt = 0; attempt < MAX_READ_ATTEMPTS; attempt++) {
    const active = Atomics.load(header, ACTIVE);
    const seqIndex = active === 0 ? SEQ_0 : SEQ_1;
    const before = Atomics.load(header, seqIndex);
    if ((before & 1) !== 0) continue;
    const count = Atomics.load(header, active === 0 ? COUNT_0 : COUNT_1);
    if (count === 0) {
      if (Atomics.load(header, seqIndex) === before) return -1;
      continue;
    }
    const base = active * ring.capacity;
    const at = locate(ring.hashes, base, count, ring.index, active * ring.indexStride, ring.indexBits, keyHash);
    const node = visitor.visit(ring.owners, base, count, at);
    if (Atomics.load(header, seqIndex) === before) return node;
  }
  return -1;
}

/** Points in the active buffer (for metrics; not used on the request path). */
export function activePointCount(ring: SharedRing): number {
  const active = Atomics.load(ring.header, ACTIVE);
  return Atomics.load(ring.header, active === 0 ? COUNT_0 : COUNT_1);
}
