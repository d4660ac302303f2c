import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  attachTenantTable,
  BUCKET_SLOTS,
  bucketOf,
  CLAIMED_BY,
  createTenantTable,
  evictSlot,
  findOrClaim,
  harvestWindow,
  readTenantId,
  recordOwnAnswer,
  recordRequest,
  recordUntracked,
  releaseClaimsOf,
  setNow,
  setShardFactor,
  shardFactor,
  slotCountFor,
  slotOffset,
  STATE,
  UNTRACKED,
  untrackedCount,
} from '../../src/shm/tenant-table.js';

interface Harvested {
  slot: number;
  keyLo: number;
  keyHi: number;
  requests: number;
  ownAnswers: number;
  errors5xx: number;
  latencySumUs: number;
  lastSeen: number;
}

function harvest(table: ReturnType<typeof createTenantTable>): Harvested[] {
  const tenants: Harvested[] = [];
  harvestWindow(table, (slot, keyLo, keyHi, requests, ownAnswers, errors5xx, latencySumUs, lastSeen) =>
    tenants.push({ slot, keyLo, keyHi, requests, ownAnswers, errors5xx, latencySumUs, lastSeen }),
  );
  return tenants;
}

describe('shared tenant table', () => {
  it('gives a key one slot, counts its requests, and zeroes the window on harvest', () => {
    const table = createTenantTable(100);
    setNow(table, 42);
    const slot = findOrClaim(table, 7, 99, 'acme');
    expect(findOrClaim(table, 7, 99, 'acme')).toBe(slot);
    expect(findOrClaim(table, 7, 98, 'other')).not.toBe(slot); // same bucket, other key
    recordRequest(table, slot, 7, 99, 1500, false);
    recordRequest(table, slot, 7, 99, 500, true);
    const first = harvest(table).find((t) => t.slot === slot)!;
    expect(readTenantId(table, slot)).toBe('acme');
    expect(first).toMatchObject({ keyLo: 7, keyHi: 99, requests: 2, errors5xx: 1, latencySumUs: 2000, lastSeen: 42 });
    expect(harvest(table).find((t) => t.slot === slot)).toMatchObject({ requests: 0, errors5xx: 0, latencySumUs: 0 });
  });

  it("counts the gateway's own answers as requests apart, with no latency or 5xx", () => {
    const table = createTenantTable(100);
    const slot = findOrClaim(table, 7, 99, 'acme');
    recordRequest(table, slot, 7, 99, 1500, true);
    recordOwnAnswer(table, slot, 7, 99);
    recordOwnAnswer(table, slot, 7, 99);
    recordOwnAnswer(table, slot, 7, 98); // another tenant's, since given this slot: not counted
    expect(harvest(table).find((t) => t.slot === slot)).toMatchObject({ requests: 3, ownAnswers: 2, errors5xx: 1, latencySumUs: 1500 });
    expect(harvest(table).find((t) => t.slot === slot)).toMatchObject({ requests: 0, ownAnswers: 0 });
  });

  it('sums latency past 2³² µs in one window exactly (1,000 answers of 10 s: 10,000 s)', () => {
    const table = createTenantTable(100);
    const slot = findOrClaim(table, 7, 99, 'acme');
    for (let i = 0; i < 1_000; i++) recordRequest(table, slot, 7, 99, 10_000_000 + (i % 3), false);
    expect(harvest(table).find((t) => t.slot === slot)).toMatchObject({ requests: 1_000, latencySumUs: 10_000_000_999 });
    recordRequest(table, slot, 7, 99, 5, false);
    expect(harvest(table).find((t) => t.slot === slot)).toMatchObject({ requests: 1, latencySumUs: 5 });
  });

  it("gives a request found in a slot its tenant's k, and 1 once the slot holds another tenant", () => {
    const table = createTenantTable(100);
    const slot = findOrClaim(table, 1, 1, 'first');
    setShardFactor(table, slot, 3);
    expect(shardFactor(table, slot, 1, 1)).toBe(3);
    evictSlot(table, slot);
    // Another key of the same bucket takes the slot.
    const other = Array.from({ length: 8192 }, (_, hi) => hi).find((hi) => hi !== 1 && bucketOf(table, 1, hi) === bucketOf(table, 1, 1))!;
    expect(findOrClaim(table, 1, other, 'second')).toBe(slot);
    setShardFactor(table, slot, 5);
    // A request of the first tenant that found the slot before the eviction (its retry, say).
    expect(shardFactor(table, slot, 1, 1)).toBe(1);
    expect(shardFactor(table, slot, 1, other)).toBe(5);
  });

  it('counts untracked requests unsigned past 2^31', () => {
    const table = createTenantTable(100);
    Atomics.store(table.words, UNTRACKED, 2 ** 31 - 1);
    recordUntracked(table);
    expect(untrackedCount(table)).toBe(2 ** 31);
  });

  it('sizes slots at 4× the limit, a power of two', () => {
    expect(slotCountFor(10_000)).toBe(65_536);
    expect(slotCountFor(1)).toBe(1024);
  });

  it('reports a full bucket instead of spilling into another, and reuses an evicted slot', () => {
    const table = createTenantTable(4); // 1,024 slots: 128 buckets of 8
    // Keys (0, hi) by the bucket the table's seed gives them.
    const inBucket = (bucket: number) => Array.from({ length: 8192 }, (_, hi) => hi).filter((hi) => bucketOf(table, 0, hi) === bucket * BUCKET_SLOTS);
    const [first, second] = [inBucket(0), inBucket(1)];
    const slots = first.slice(0, BUCKET_SLOTS).map((hi) => findOrClaim(table, 0, hi, `t${hi}`));
    expect(new Set(slots).size).toBe(BUCKET_SLOTS);
    const late = first[BUCKET_SLOTS]!;
    expect(findOrClaim(table, 0, late, 'late')).toBe(-1);
    expect(findOrClaim(table, 0, second[0]!, 'b1')).toBeGreaterThanOrEqual(BUCKET_SLOTS); // bucket 1 still has room
    recordRequest(table, slots[3]!, 0, first[3]!, 10, false);
    evictSlot(table, slots[3]!);
    expect(harvest(table).some((t) => t.keyLo === 0 && t.keyHi === first[3])).toBe(false);
    expect(findOrClaim(table, 0, late, 'late')).toBe(slots[3]);
    expect(harvest(table).find((t) => t.slot === slots[3])).toMatchObject({ keyHi: late, requests: 0 });
    expect(readTenantId(table, slots[3]!)).toBe('late');
    // A request of the evicted tenant that ends now counts for nobody: not for the slot's new tenant.
    recordRequest(table, slots[3]!, 0, first[3]!, 30_000_000, true);
    expect(harvest(table).find((t) => t.slot === slots[3])).toMatchObject({ keyHi: late, requests: 0, errors5xx: 0, latencySumUs: 0 });
  });

  it('gives back the slot a thread died claiming, and only that thread\'s', () => {
    const table = createTenantTable(4);
    const lane2 = attachTenantTable(table.buffer, 2);
    const bucket = Array.from({ length: 8192 }, (_, hi) => hi).filter((hi) => bucketOf(table, 0, hi) === 0);
    // Thread 3 stopped between its claim and LIVE: the state its claim stored stays.
    const claimed = findOrClaim(attachTenantTable(table.buffer, 3), 0, bucket[0]!, 'dying');
    Atomics.store(table.words, slotOffset(claimed) + STATE, CLAIMED_BY + 3);
    // A new tenant of the bucket waits on that claim (it could be its own key), then goes untracked.
    expect(findOrClaim(lane2, 0, bucket[1]!, 'next')).toBe(-1);
    expect(releaseClaimsOf(table, 2)).toBe(0);
    expect(releaseClaimsOf(table, 3)).toBe(1);
    expect(findOrClaim(lane2, 0, bucket[1]!, 'next')).toBeGreaterThanOrEqual(0);
    expect(harvest(table).map((t) => t.keyHi)).toEqual([bucket[1]]);
  });

  it("puts keys in buckets by a seed of the table's own: which keys share one cannot be worked out in advance", () => {
    const keys = Array.from({ length: 32 }, (_, i) => [i * 7919, i] as const);
    const [a, b] = [createTenantTable(10_000), createTenantTable(10_000)];
    const buckets = (table: ReturnType<typeof createTenantTable>) => keys.map(([lo, hi]) => bucketOf(table, lo, hi));
    expect(buckets(a)).not.toEqual(buckets(b));
    // Every thread's view of one table agrees.
    expect(buckets(attachTenantTable(a.buffer))).toEqual(buckets(a));
    // Keys differing only in their high half spread too.
    expect(new Set(Array.from({ length: 64 }, (_, hi) => bucketOf(a, 0, hi))).size).toBeGreaterThan(32);
  });

  it('loses no increment and makes no duplicate slot when two threads hammer the same tenants', async () => {
    const table = createTenantTable(1_000);
    const tenants = 400;
    const rounds = 2_000;
    // One hot tenant listed many times, and 400 tenants both threads claim at the same moment.
    const keys = new Int32Array([...Array.from({ length: 100 }, () => [5, 5]), ...Array.from({ length: tenants }, (_, i) => [i * 2_654_435_761, i])].flat());
    const go = new Int32Array(new SharedArrayBuffer(4));
    const workers = [0, 1].map(
      () => new Worker(new URL('../fixtures/tenant-hammer.mjs', import.meta.url), { workerData: { buffer: table.buffer, keys, rounds, go } }),
    );
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
    const done = workers.map((w) => new Promise((resolve) => w.once('message', resolve)));
    Atomics.store(go, 0, 1);
    await Promise.all(done);
    await Promise.all(workers.map((w) => w.terminate()));

    const seen = harvest(table);
    const byKey = new Map(seen.map((t) => [`${t.keyLo}/${t.keyHi}`, t]));
    expect(seen).toHaveLength(tenants + 1); // one slot per key
    expect(readTenantId(table, byKey.get('5/5')!.slot)).toBe('t5');
    // Every request is counted once: on its tenant, or as untracked when a claim it waited on took
    // longer than the claim wait allows (a thread preempted mid-claim on a loaded machine).
    const hot = byKey.get('5/5')!;
    let missing = 2 * rounds * 100 - hot.requests;
    expect(hot.latencySumUs).toBe(hot.requests * 7);
    for (let i = 0; i < tenants; i++) {
      const tenant = byKey.get(`${(i * 2_654_435_761) | 0}/${i}`)!;
      expect(tenant.requests).toBeLessThanOrEqual(2 * rounds);
      expect(tenant.errors5xx).toBeLessThanOrEqual(2 * (rounds / 10));
      expect(tenant.latencySumUs).toBe(tenant.requests * 7);
      missing += 2 * rounds - tenant.requests;
    }
    expect(missing).toBe(untrackedCount(table));
    expect(untrackedCount(table)).toBeLessThan((tenants + 100) * 2 * rounds * 0.01);
  });
});
