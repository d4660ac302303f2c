/**
 * A bucket index over a sorted ring, so a probe finds its point with a table read and a search
 * over one bucket's few points instead of a binary search over the whole ring (8 probes × ~11
 * unpredictable branches cost ~1 µs a lookup for 1,500 points: native-bench micro-benchmarks).
 * The 2^bits buckets split the 32-bit hash space evenly; `index[b]` is the position of the first
 * point whose hash is ≥ the start of bucket b, and `index[2^bits]` is the point count.
 */
const MIN_INDEX_BITS = 4;
const MAX_INDEX_BITS = 20;

/** Buckets for a ring of up to `points` points: about one point per bucket. */
export function indexBitsFor(points: number): number {
  return Math.min(MAX_INDEX_BITS, Math.max(MIN_INDEX_BITS, Math.ceil(Math.log2(Math.max(points, 1)))));
}

/** Entries an index of `bits` needs. */
export function indexLength(bits: number): number {
  return 2 ** bits + 1;
}

/** Fills `index[indexBase …]` for the sorted `hashes[base … base + count)`. */
export function fillRingIndex(hashes: Uint32Array, base: number, count: number, index: Uint32Array, indexBase: number, bits: number): void {
  const buckets = 2 ** bits;
  const bucketWidth = 2 ** (32 - bits);
  let point = 0;
  for (let bucket = 0; bucket < buckets; bucket++) {
    const start = bucket * bucketWidth;
    while (point < count && hashes[base + point]! < start) point++;
    index[indexBase + bucket] = point;
  }
  index[indexBase + buckets] = count;
}

/**
 * Position (relative to `base`) of the first point at or after `keyHash`, wrapping to 0. Reads a
 * torn index safely: positions are clamped to the ring, and the seqlock reader discards the answer.
 */
export function findPoint(
  hashes: Uint32Array,
  base: number,
  count: number,
  index: Uint32Array,
  indexBase: number,
  bits: number,
  keyHash: number,
): number {
  const bucket = keyHash >>> (32 - bits);
  let lo = index[indexBase + bucket]!;
  let hi = index[indexBase + bucket + 1]!;
  if (hi > count) hi = count;
  if (lo > hi) lo = hi;
  // The first point at or after keyHash is in [lo, hi], and at hi when every point of the bucket is below it.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[base + mid]! < keyHash) lo = mid + 1;
    else hi = mid;
  }
  return lo === count ? 0 : lo;
}
