import { describe, expect, it } from 'vitest';
import { fillRingIndex, findPoint, indexBitsFor, indexLength } from '../../src/routing/ring-index.js';

/** The definition findPoint must match: first point at or after the key, wrapping to 0. */
function firstAtOrAfter(hashes: Uint32Array, keyHash: number): number {
  const at = hashes.findIndex((h) => h >= keyHash);
  return at < 0 ? 0 : at;
}

function randomRing(count: number, seed: number): Uint32Array {
  let x = seed;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  return Uint32Array.from({ length: count }, next).sort();
}

describe('ring bucket index', () => {
  it.each([1, 2, 7, 150, 1500, 15_000])('finds the same point as a scan, ring of %i points', (count) => {
    const hashes = randomRing(count, count * 7919 + 1);
    const bits = indexBitsFor(count);
    const index = new Uint32Array(indexLength(bits));
    fillRingIndex(hashes, 0, count, index, 0, bits);
    const keys = [0, 1, 0xffffffff, 0x80000000, ...hashes.subarray(0, 50), ...hashes.subarray(0, 50).map((h) => (h + 1) >>> 0), ...randomRing(2000, count)];
    for (let b = 0; b < 2 ** bits; b += Math.max(1, 2 ** bits >> 6)) keys.push(b * 2 ** (32 - bits), b * 2 ** (32 - bits) - 1);
    for (const key of keys) expect(findPoint(hashes, 0, count, index, 0, bits, key >>> 0)).toBe(firstAtOrAfter(hashes, key >>> 0));
  });

  it('works on a ring stored at an offset, with duplicate hashes, and a small ring in a large index', () => {
    const ring = Uint32Array.from([5, 5, 5, 1 << 30, 1 << 30, 3_000_000_000]);
    const stored = new Uint32Array(100);
    stored.set(ring, 40);
    const bits = indexBitsFor(4096);
    const index = new Uint32Array(3 + indexLength(bits));
    fillRingIndex(stored, 40, ring.length, index, 3, bits);
    for (const key of [0, 5, 6, 1 << 30, (1 << 30) + 1, 3_000_000_000, 3_000_000_001, 0xffffffff]) {
      expect(findPoint(stored, 40, ring.length, index, 3, bits, key >>> 0)).toBe(firstAtOrAfter(ring, key >>> 0));
    }
  });

  it('stays inside the ring when the index it reads is garbage (a torn read the seqlock discards)', () => {
    const hashes = randomRing(100, 3);
    const bits = indexBitsFor(100);
    const garbage = Uint32Array.from({ length: indexLength(bits) }, (_, i) => (i * 2_654_435_761) >>> 0);
    for (const key of randomRing(500, 9)) {
      const at = findPoint(hashes, 0, 100, garbage, 0, bits, key);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(at).toBeLessThan(100);
    }
  });
});
