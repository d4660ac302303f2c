import { describe, expect, it } from 'vitest';
import { SLAB_BYTES, writeBuffer } from '../../src/upstream/h1/write-slab.js';

/** Fills `buffer` with `byte`; returns a check that it still holds only that byte. */
function filled(buffer: Buffer, byte: number): () => boolean {
  buffer.fill(byte);
  return () => buffer.every((b) => b === byte);
}

describe('writeBuffer (joined writes carved from a slab)', () => {
  it('hands out buffers of the size asked that never share a byte, across slabs', () => {
    const checks: (() => boolean)[] = [];
    const sizes = [4_421, 1, 7, 64 * 1024 + 300, 8, 30_000, 65_536, 3];
    // Several slabs' worth, so that full slabs are replaced while earlier buffers are still held.
    for (let i = 0; i < 40; i++) {
      const size = sizes[i % sizes.length]!;
      const buffer = writeBuffer(size);
      expect(buffer.length).toBe(size);
      checks.push(filled(buffer, i % 251));
    }
    expect(checks.every((still) => still())).toBe(true);
  });

  it('gives a write larger than a slab a buffer of its own', () => {
    const before = writeBuffer(16);
    const large = writeBuffer(SLAB_BYTES + 1);
    expect(large.length).toBe(SLAB_BYTES + 1);
    expect(large.buffer).not.toBe(before.buffer);
    const after = writeBuffer(16);
    expect(after.buffer).toBe(before.buffer);
  });

  it('carves buffers 8-byte aligned within their slab', () => {
    writeBuffer(3);
    const next = writeBuffer(5);
    expect(next.byteOffset % 8).toBe(0);
  });
});
