import xxhash from 'xxhash-wasm';
import { describe, expect, it } from 'vitest';
import { hex64, loadTenantKeyer, newTableKeySeed, subjectDigest } from '../src/hash.js';
import { forgeXxh64 } from './helpers/xxh64-forgery.js';

describe('loadTenantKeyer', () => {
  it("gives a tenant id's xxHash64 under its seed as its two signed 32-bit halves", async () => {
    const { h64 } = await xxhash();
    for (const seed of [0n, newTableKeySeed()]) {
      const keyer = await loadTenantKeyer(seed);
      const ids = ['acme', '', 'tenant-ünïcode', 'x'.repeat(300), ...Array.from({ length: 500 }, (_, i) => `tenant-${i}`)];
      for (const id of ids) {
        const h = h64(id, seed);
        keyer.hash(id);
        expect([keyer.lo, keyer.hi], id).toEqual([Number(BigInt.asIntN(32, h)), Number(BigInt.asIntN(32, h >> 32n))]);
        expect(hex64(keyer.lo, keyer.hi)).toBe(h.toString(16).padStart(16, '0'));
      }
    }
  });

  it('keys a forged id apart from the one it was made to meet, once seeded with a table key seed', async () => {
    const forged = forgeXxh64('', (await xxhash()).h64('acme', 0n));
    const halves = async (seed: bigint) => {
      const keyer = await loadTenantKeyer(seed);
      keyer.hash('acme');
      const acme = [keyer.lo, keyer.hi];
      keyer.hash(forged);
      return { acme, forged: [keyer.lo, keyer.hi] };
    };
    const unseeded = await halves(0n);
    expect(unseeded.forged).toEqual(unseeded.acme);
    const seeded = await halves(newTableKeySeed());
    expect(seeded.forged).not.toEqual(seeded.acme);
  });
});

describe('newTableKeySeed', () => {
  it('draws a different 64-bit seed each time', () => {
    const seeds = new Set(Array.from({ length: 100 }, newTableKeySeed));
    expect(seeds.size).toBe(100);
    for (const seed of seeds) expect(seed >= 0n && seed < 2n ** 64n).toBe(true);
  });
});

describe('subjectDigest', () => {
  it("names a subject by 128 bits of its SHA-256, alike in every process", () => {
    expect(subjectDigest('prefix:/a/\nt:acme')).toBe(subjectDigest('prefix:/a/\nt:acme'));
    expect(subjectDigest('')).toBe('e3b0c44298fc1c149afbf4c8996fb924');
    expect(subjectDigest('prefix:/a/\nt:acme')).not.toBe(subjectDigest('prefix:/a/\nt:acmf'));
  });
});
