import xxhash from 'xxhash-wasm';
import type { Hash32 } from './routing/ring.js';

/** Seed of every 32-bit hash the gateway puts on a ring; changing it remaps every key. */
export const RING_HASH_SEED = 0;

/** xxHash32 (xxhash-wasm) of a string, as used for ring points and routing keys. */
export async function loadHash32(): Promise<Hash32> {
  const { h32 } = await xxhash();
  return (key: string) => h32(key, RING_HASH_SEED);
}
