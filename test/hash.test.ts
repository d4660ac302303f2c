import xxhash from 'xxhash-wasm';
import { describe, expect, it } from 'vitest';
import { hex64, loadTenantKeyer } from '../src/hash.js';

describe('loadTenantKeyer', () => {
  it("gives a tenant id's xxHash64 as its two signed 32-bit halves (the tenant table's and Redis keys' tag)", async () => {
    const keyer = await loadTenantKeyer();
    const { h64 } = await xxhash();
    const ids = ['acme', '', 'tenant-ünïcode', 'x'.repeat(300), ...Array.from({ length: 500 }, (_, i) => `tenant-${i}`)];
    for (const id of ids) {
      const h = h64(id, 0n);
      keyer.hash(id);
      expect([keyer.lo, keyer.hi], id).toEqual([Number(BigInt.asIntN(32, h)), Number(BigInt.asIntN(32, h >> 32n))]);
      expect(hex64(keyer.lo, keyer.hi)).toBe(h.toString(16).padStart(16, '0'));
    }
  });
});
