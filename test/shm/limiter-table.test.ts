import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { TABLE_EPOCH_MS, WAYS } from '../../src/shm/bucket-table.js';
import { createLimiterTable, hitLimit, limiterEvictions, type Hit } from '../../src/shm/limiter-table.js';

const HAMMER = new URL('../fixtures/limiter-hammer.mjs', import.meta.url);
/** A window boundary, so tests know where in the window they are. */
const T0 = 1_800_000_000_000;
const hit = (): Hit => ({ allowed: false, remaining: 0, resetMs: 0, retryMs: 0 });

describe('shared limiter table', () => {
  it('allows `limit` requests per window for a key, then refuses, with what the RateLimit headers say', () => {
    const table = createLimiterTable(64);
    const h = hit();
    const verdicts: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      hitLimit(table, 1, 1, 3, 1000, T0 + 100, h);
      verdicts.push(h.allowed);
    }
    expect(verdicts).toEqual([true, true, true, false, false]);
    // The window is full: one more fits once it is over and a third of it has slid out.
    expect(h).toEqual({ allowed: false, remaining: 0, resetMs: 900, retryMs: 900 + 334 });
    // Other keys have limits of their own.
    hitLimit(table, 2, 1, 3, 1000, T0 + 100, h);
    expect(h).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('limits 100 ms windows past the day their numbers outgrow an Int32 (late 2031), and across it', () => {
    const wrap = TABLE_EPOCH_MS + 2 ** 31 * 100;
    const allowedOf = (table: ReturnType<typeof createLimiterTable>, at: number, hits: number): number => {
      const h = hit();
      let allowed = 0;
      for (let i = 0; i < hits; i++) {
        hitLimit(table, 1, 1, 5, 100, at, h);
        if (h.allowed) allowed++;
      }
      return allowed;
    };
    expect(allowedOf(createLimiterTable(64), wrap + 10, 50)).toBe(5);
    expect(allowedOf(createLimiterTable(64), wrap + 365 * 86_400_000 + 10, 50)).toBe(5);
    // The window before the wrap fills; halfway into the one after, half of it still counts.
    const table = createLimiterTable(64);
    expect(allowedOf(table, wrap - 10, 50)).toBe(5);
    expect(allowedOf(table, wrap + 50, 50)).toBe(2);
  });

  it('slides: half a window later half of the last window still counts', () => {
    const table = createLimiterTable(64);
    const h = hit();
    for (let i = 0; i < 10; i++) hitLimit(table, 1, 1, 10, 1000, T0 + 900, h);
    hitLimit(table, 1, 1, 10, 1000, T0 + 1000, h);
    expect(h.allowed).toBe(false); // 10 × 100% of the last window
    const allowed: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      hitLimit(table, 1, 1, 10, 1000, T0 + 1500, h);
      allowed.push(h.allowed);
    }
    // 10 × 50% = 5 still count: 5 more fit.
    expect(allowed).toEqual([true, true, true, true, true, false]);
  });

  it('never resets a key for a reading older than its window: a thread that read the clock first, or a clock stepped back', () => {
    const table = createLimiterTable(64);
    const h = hit();
    for (let i = 0; i < 10; i++) hitLimit(table, 1, 1, 10, 1000, T0 + 900, h);
    // Another thread rolls the key into the next window first: still refused (10 × 99.9%).
    hitLimit(table, 1, 1, 10, 1000, T0 + 1001, h);
    expect(h.allowed).toBe(false);
    // This one read the clock before the boundary: it counts at the new window's start, refused.
    hitLimit(table, 1, 1, 10, 1000, T0 + 999, h);
    expect(h).toMatchObject({ allowed: false, remaining: 0, resetMs: 1000 });
    hitLimit(table, 1, 1, 10, 1000, T0 + 1002, h);
    expect(h.allowed).toBe(false);
    // A clock stepped back a minute starts the key afresh: it is not refused until real time catches up.
    hitLimit(table, 1, 1, 10, 1000, T0 - 60_000, h);
    expect(h).toMatchObject({ allowed: true, remaining: 9 });
  });

  it('never resets a key for a thread whose clock reading reached the lock over a window late (100 ms windows)', () => {
    const table = createLimiterTable(64);
    const h = hit();
    for (let i = 0; i < 10; i++) hitLimit(table, 1, 1, 10, 100, T0 + 250, h);
    // Read at T0 + 50, then descheduled 200 ms before it took the bucket lock: two windows behind.
    hitLimit(table, 1, 1, 10, 100, T0 + 50, h);
    expect(h.allowed).toBe(false);
    // The threads reading the clock now find the window still full.
    hitLimit(table, 1, 1, 10, 100, T0 + 260, h);
    expect(h.allowed).toBe(false);
  });

  it('says when one more request fits: not before, and then it does', () => {
    for (const [previousAt, previousHits, currentAt, currentHits] of [
      [T0 + 500, 10, T0 + 1500, 5], // the previous window's share is in the way
      [T0 - 5000, 0, T0 + 100, 10], // this window is full
      [T0 + 100, 10, T0 + 1300, 3],
    ] as const) {
      const table = createLimiterTable(64);
      const h = hit();
      for (let i = 0; i < previousHits; i++) hitLimit(table, 1, 1, 10, 1000, previousAt, h);
      for (let i = 0; i < currentHits; i++) hitLimit(table, 1, 1, 10, 1000, currentAt, h);
      hitLimit(table, 1, 1, 10, 1000, currentAt, h);
      expect(h.allowed).toBe(false);
      const { retryMs } = h;
      const copy = createLimiterTable(64);
      for (let i = 0; i < previousHits; i++) hitLimit(copy, 1, 1, 10, 1000, previousAt, h);
      for (let i = 0; i < currentHits; i++) hitLimit(copy, 1, 1, 10, 1000, currentAt, h);
      hitLimit(copy, 1, 1, 10, 1000, currentAt + retryMs - 2, h);
      expect(h.allowed).toBe(false);
      hitLimit(table, 1, 1, 10, 1000, currentAt + retryMs, h);
      expect(h.allowed).toBe(true);
    }
  });

  it('stays bounded: new keys beyond its room give up the least recently used', () => {
    const table = createLimiterTable(WAYS); // one bucket
    const h = hit();
    for (let key = 0; key < 100; key++) hitLimit(table, key, 0, 1, 1000, T0, h);
    expect(limiterEvictions(table)).toBe(100 - WAYS);
    // The most recent keys are still counted: at their limit.
    hitLimit(table, 99, 0, 1, 1000, T0, h);
    expect(h.allowed).toBe(false);
    hitLimit(table, 0, 0, 1, 1000, T0, h);
    expect(h.allowed).toBe(true);
  });

  it('gives up the least recently used key, not the first one in: a hit makes a key recent again', () => {
    const table = createLimiterTable(WAYS); // one bucket
    const h = hit();
    for (let key = 0; key < WAYS; key++) hitLimit(table, key, 0, 2, 1000, T0, h);
    // Key 0 came in first but is hit again now: key 1 is the least recently used.
    hitLimit(table, 0, 0, 2, 1000, T0, h);
    expect(h.allowed).toBe(true);
    hitLimit(table, 100, 0, 2, 1000, T0, h);
    expect(limiterEvictions(table)).toBe(1);
    // Key 0 kept its count (2 of 2: refused); key 1 starts afresh (allowed).
    hitLimit(table, 0, 0, 2, 1000, T0, h);
    expect(h.allowed).toBe(false);
    hitLimit(table, 1, 0, 2, 1000, T0, h);
    expect(h.allowed).toBe(true);
  });

  it('puts keys in buckets by its own seed: keys lined up in one bucket by their hashes alone do not push each other out', () => {
    const table = createLimiterTable(64); // 8 buckets
    const h = hit();
    // Without the seed these WAYS + 1 keys share a bucket (equal low halves): the last would push
    // the first out, and its count with it.
    const keys = Array.from({ length: WAYS + 1 }, (_, i) => [64 * i, i] as const);
    for (const [lo, hi] of keys) hitLimit(table, lo, hi, 1, 1000, T0, h);
    const second = keys.map(([lo, hi]) => {
      hitLimit(table, lo, hi, 1, 1000, T0, h);
      return h.allowed;
    });
    expect(second).toEqual(keys.map(() => false));
    expect(limiterEvictions(table)).toBe(0);
  });

  it('keeps 100k distinct keys in the memory it was given at start-up, giving up the least recently used', () => {
    const table = createLimiterTable(65_536);
    const bytes = table.buffer.byteLength;
    const h = hit();
    // Keys spread over buckets as real hashes do (a multiplicative hash of the counter).
    const keyOf = (n: number): number => Math.imul(n + 1, 0x9e3779b1);
    for (let n = 0; n < 100_000; n++) hitLimit(table, keyOf(n), n, 1, 1000, T0, h);
    expect(table.buffer.byteLength).toBe(bytes);
    expect(limiterEvictions(table)).toBeGreaterThanOrEqual(100_000 - 65_536);
    // The newest keys are all still counted (at their limit of 1); the oldest have been given up.
    let stillCounted = 0;
    for (let n = 99_000; n < 100_000; n++) {
      hitLimit(table, keyOf(n), n, 1, 1000, T0, h);
      if (!h.allowed) stillCounted++;
    }
    expect(stillCounted).toBeGreaterThan(990);
    // Most of the oldest have been given up: all but those whose bucket (placed by the table's
    // random seed) got no more than WAYS keys in all: about 8% of them, at 12.2 keys a bucket.
    let givenUp = 0;
    for (let n = 0; n < 1000; n++) {
      hitLimit(table, keyOf(n), n, 1, 1000, T0, h);
      if (h.allowed) givenUp++;
    }
    expect(givenUp).toBeGreaterThan(800);
  });

  it('holds one limit for all threads: four threads hitting a key at once get exactly `limit` through', async () => {
    const table = createLimiterTable(64);
    const go = new Int32Array(new SharedArrayBuffer(4));
    const workers = [0, 1, 2, 3].map((i) => new Worker(HAMMER, { workerData: { buffer: table.buffer, attempts: 2000, limit: 1000, nowMs: T0 + 10 * i, go } }));
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
    const results = workers.map((w) => new Promise<number>((resolve) => w.once('message', resolve)));
    Atomics.store(go, 0, 1);
    const allowed = await Promise.all(results);
    await Promise.all(workers.map((w) => w.terminate()));
    expect(allowed.reduce((a, b) => a + b, 0)).toBe(1000);
  });
});
