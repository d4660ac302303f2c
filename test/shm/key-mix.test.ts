import { describe, expect, it } from 'vitest';
import { mixKey } from '../../src/shm/key-mix.js';

const random32 = (): number => (Math.random() * 2 ** 32) | 0;

describe('mixKey', () => {
  it('is a function of the key and the seed', () => {
    expect(mixKey(1, 2, 3)).toBe(mixKey(1, 2, 3));
    expect(mixKey(1, 2, 3)).not.toBe(mixKey(1, 2, 4));
  });

  it('keeps no key pair together whatever the seed: halves differing in their top bit alone part', () => {
    let together = 0;
    for (let i = 0; i < 1_000; i++) {
      const [lo, hi, seed] = [random32(), random32(), random32()];
      if (mixKey(lo, hi, seed) === mixKey(lo ^ 0x80000000, hi ^ 0x80000000, seed)) together++;
    }
    // 32-bit values: a chance meeting is one in four billion.
    expect(together).toBe(0);
  });

  it('spreads keys that differ in one bit of either half over the buckets', () => {
    const seed = random32();
    for (const half of ['lo', 'hi'] as const) {
      const buckets = new Set<number>();
      for (let bit = 0; bit < 32; bit++) {
        const flip = (1 << bit) | 0;
        buckets.add(half === 'lo' ? mixKey(7 ^ flip, 9, seed) % 1024 : mixKey(7, 9 ^ flip, seed) % 1024);
      }
      // 32 keys into 1,024 buckets: nearly all apart.
      expect(buckets.size).toBeGreaterThan(26);
    }
  });
});
