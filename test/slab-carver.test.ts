import { describe, expect, it } from 'vitest';
import { SlabCarver } from '../src/slab-carver.js';

describe('SlabCarver', () => {
  it('hands out 8-byte aligned buffers of the size asked that never share a byte, across slabs', () => {
    const slabs = new SlabCarver(16 * 1024);
    const taken: Buffer[] = [];
    // 4 KiB and 8 KiB bodies and odd sizes: several slabs' worth, earlier buffers still held.
    for (let i = 0; i < 30; i++) {
      const buffer = slabs.take([4096, 8192, 4100, 5][i % 4]!);
      expect(buffer.byteOffset % 8).toBe(0);
      buffer.fill(i);
      taken.push(buffer);
    }
    taken.forEach((buffer, i) => expect(buffer.every((byte) => byte === i)).toBe(true));
  });

  it('starts a new slab when the rest of the current one is too small, and refuses more than a slab', () => {
    const slabs = new SlabCarver(16 * 1024);
    const first = slabs.take(8192);
    const second = slabs.take(8192);
    expect(second.buffer).toBe(first.buffer);
    const third = slabs.take(4096);
    expect(third.buffer).not.toBe(first.buffer);
    expect(() => slabs.take(16 * 1024 + 1)).toThrow(RangeError);
  });
});
