import { createHash, randomBytes, randomInt } from 'node:crypto';
import { endianness } from 'node:os';
import xxhash from 'xxhash-wasm';
import type { Hash32 } from './routing/ring.js';

/** Seed of every 32-bit hash the gateway puts on a ring; changing it remaps every key. */
export const RING_HASH_SEED = 0;

/** xxHash32 (xxhash-wasm) of a string, as used for ring points and routing keys. */
export async function loadHash32(): Promise<Hash32> {
  const { h32 } = await xxhash();
  return (key: string) => h32(key, RING_HASH_SEED);
}

/**
 * xxHash32 seeded at random for this thread: for in-memory tables keyed by what clients send, so
 * that keys colliding in them cannot be worked out in advance.
 */
export async function loadSeededHash32(): Promise<Hash32> {
  const { h32 } = await xxhash();
  const seed = randomInt(2 ** 32);
  return (key: string) => h32(key, seed);
}

/** A request body's 64-bit xxHash in hex: part of an idempotent request's fingerprint. */
export type BytesDigest = (bytes: Uint8Array) => string;

export async function loadBytesDigest(): Promise<BytesDigest> {
  const { h64Raw } = await xxhash();
  return (bytes) => h64Raw(bytes, 0n).toString(16);
}

/**
 * A tenant id's (or a rate-limit subject's, or a multiplexed call's) 64-bit xxHash as two Int32
 * halves, a shared table's key; set by `hash()`.
 */
export interface TenantKeyer {
  lo: number;
  hi: number;
  hash(id: string): void;
}

/**
 * The seed of the keyer of the tables keyed by what clients choose (tenant ids, rate-limit subjects,
 * multiplexed calls): random for each process, the same in all of its threads. With a seed known to
 * all, xxHash64 is inverted in milliseconds: a tenant could name itself so that it spends another
 * tenant's rate limit, or fill the bucket another's key lands in.
 */
export function newTableKeySeed(): bigint {
  return randomBytes(8).readBigUInt64LE();
}

/**
 * The seed of Idempotency-Keys' hashes: fixed, as every instance names them alike in Redis. A key
 * meets another client's only when made for that client's hash, which takes knowing its key, a
 * secret it chose.
 */
export const IDEMPOTENCY_KEY_SEED = 0n;

export async function loadTenantKeyer(seed: bigint): Promise<TenantKeyer> {
  const { h64 } = await xxhash();
  // The halves are read through a view of the 64 bits, not cut with BigInt arithmetic: three fewer
  // BigInts a request. Which Int32 is the low half follows the machine's byte order.
  const whole = new BigInt64Array(1);
  const halves = new Int32Array(whole.buffer);
  const [low, high] = endianness() === 'LE' ? [0, 1] : [1, 0];
  const keyer: TenantKeyer = {
    lo: 0,
    hi: 0,
    hash(id) {
      whole[0] = h64(id, seed);
      keyer.lo = halves[low]!;
      keyer.hi = halves[high]!;
    },
  };
  return keyer;
}

/** A 64-bit hash given as two Int32 halves, as 16 hex digits (high half first): a Redis key's tag. */
export function hex64(lo: number, hi: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/**
 * A rate-limit subject's name in Redis: alike on every instance, so not a seeded hash, and
 * cryptographic (128 bits of SHA-256), so that no subject a client chooses is made to meet another's.
 */
export function subjectDigest(subject: string): string {
  // Not crypto.hash(): Node 20 has it only from 20.12, and package.json allows 20.6.
  return createHash('sha256').update(subject).digest('hex').slice(0, 32);
}
