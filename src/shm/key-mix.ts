/**
 * Where a 64-bit key hash goes in a seeded shared table (the tenant table's buckets, and those of
 * bucket-table.ts): its two Int32 halves mixed with the table's random seed into 32 bits
 * (murmur3's finalizer), so that no bit of the key alone decides it and which keys share a bucket
 * cannot be worked out without the seed. The low half is multiplied and folded before the high
 * half joins it: a multiplication alone carries a flip of the top bit straight through, so keys
 * whose halves both differ in that bit alone would share a bucket whatever the seed.
 */
export function mixKey(keyLo: number, keyHi: number, seed: number): number {
  let h = Math.imul(keyLo ^ seed, 0xcc9e2d51);
  h = Math.imul(h ^ (h >>> 16), 0x1b873593) ^ keyHi;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
