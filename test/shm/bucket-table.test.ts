import { describe, expect, it } from 'vitest';
import { attachBucketTable, createBucketTable, entryLock, firstEntry, keyLock, LOCKS_OFFSET, WAYS } from '../../src/shm/bucket-table.js';

const ENTRY_WORDS = 4;
const locks = (table: ReturnType<typeof createBucketTable>, keys: readonly (readonly [number, number])[]) => keys.map(([lo, hi]) => keyLock(table, lo, hi));

describe('bucket tables', () => {
  it("place keys by a seed of the table's own, which every thread's view shares", () => {
    const keys = Array.from({ length: 32 }, (_, i) => [i * 7919, i] as const);
    const [a, b] = [createBucketTable(1024, 0, ENTRY_WORDS), createBucketTable(1024, 0, ENTRY_WORDS)];
    expect(locks(a, keys)).not.toEqual(locks(b, keys));
    expect(locks(attachBucketTable(a.buffer, ENTRY_WORDS, 0), keys)).toEqual(locks(a, keys));
    for (const lock of locks(a, keys)) expect(lock - LOCKS_OFFSET).toBeLessThan(1024 / WAYS);
  });

  it('spread keys that differ only in their high half', () => {
    const table = createBucketTable(1024, 0, ENTRY_WORDS); // 128 buckets
    const spread = new Set(Array.from({ length: 64 }, (_, hi) => keyLock(table, 0, hi)));
    expect(spread.size).toBeGreaterThan(32);
  });

  it("give each entry's bucket lock back from the entry alone", () => {
    const table = createBucketTable(64, 0, ENTRY_WORDS);
    const lock = keyLock(table, 12345, 678);
    for (let entry = firstEntry(lock); entry < firstEntry(lock) + WAYS; entry++) expect(entryLock(entry)).toBe(lock);
    expect(entryLock(firstEntry(lock) + WAYS)).not.toBe(lock);
  });
});
