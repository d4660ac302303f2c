import { describe, expect, it } from 'vitest';
import { ResponseCapture, decodeResponse } from '../../src/acceptor/stored-response.js';
import {
  attachIdempotencyTable,
  claimKey,
  ClaimResult,
  completeKey,
  createIdempotencyTable,
  idempotencyEvictions,
  releaseIdempotencyLane,
  WAYS,
  type Claim,
} from '../../src/shm/idempotency-table.js';

const claim = (): Claim => ({ result: ClaimResult.Full, entry: -1, replay: null });

describe('shared idempotency table', () => {
  it('claims a new key, refuses a duplicate in flight, replays it once done, and refuses it for another request', () => {
    const table = createIdempotencyTable(16, 64, 0);
    const other = attachIdempotencyTable(table.buffer);
    const first = claim();
    claimKey(table, 7, 1, 100, 200, 0, 10, 40, first);
    expect(first.result).toBe(ClaimResult.Claimed);
    const dup = claim();
    claimKey(other, 7, 1, 100, 200, 1, 11, 41, dup);
    expect(dup.result).toBe(ClaimResult.InFlight);
    completeKey(table, first.entry, 7, 1, Buffer.from('stored answer'), 1000);
    claimKey(other, 7, 1, 100, 200, 1, 12, 42, dup);
    expect(dup.result).toBe(ClaimResult.Replay);
    expect(dup.replay!.toString()).toBe('stored answer');
    claimKey(other, 7, 1, 100, 999, 1, 12, 42, dup);
    expect(dup.result).toBe(ClaimResult.Reused);
  });

  it('lets a key go when its request failed, or its answer does not fit a slot', () => {
    const table = createIdempotencyTable(16, 8, 0);
    const c = claim();
    claimKey(table, 5, 5, 1, 1, 0, 0, 30, c);
    completeKey(table, c.entry, 5, 5, null, 1000);
    claimKey(table, 5, 5, 2, 2, 0, 1, 30, c);
    expect(c.result).toBe(ClaimResult.Claimed);
    completeKey(table, c.entry, 5, 5, Buffer.alloc(9), 1000);
    claimKey(table, 5, 5, 2, 2, 0, 2, 30, c);
    expect(c.result).toBe(ClaimResult.Claimed);
  });

  it('forgets a done key after its TTL, and a claim whose deadline passed', () => {
    const table = createIdempotencyTable(16, 64, 0);
    const c = claim();
    claimKey(table, 9, 9, 1, 1, 0, 0, 30, c);
    claimKey(table, 9, 9, 1, 1, 1, 31, 60, c);
    expect(c.result).toBe(ClaimResult.Claimed);
    completeKey(table, c.entry, 9, 9, Buffer.from('x'), 100);
    claimKey(table, 9, 9, 2, 2, 0, 100, 130, c);
    expect(c.result).toBe(ClaimResult.Claimed);
  });

  it('gives up the least recently used done key when a bucket is full, never one in flight', () => {
    const table = createIdempotencyTable(WAYS, 64, 0); // one bucket
    const c = claim();
    for (let key = 0; key < WAYS; key++) {
      claimKey(table, key, 0, key, 0, 0, key, 1000, c);
      if (key > 0) completeKey(table, c.entry, key, 0, Buffer.from(`k${key}`), 10_000);
    }
    // Key 0 stays in flight; key 1 is the oldest done one.
    claimKey(table, 100, 0, 1, 1, 0, 50, 1000, c);
    expect(c.result).toBe(ClaimResult.Claimed);
    expect(idempotencyEvictions(table)).toBe(1);
    claimKey(table, 1, 0, 1, 0, 0, 51, 1000, c);
    expect(c.result).toBe(ClaimResult.Claimed); // forgotten: a new claim
    claimKey(table, 2, 0, 2, 0, 0, 52, 1000, c);
    expect(c.result).toBe(ClaimResult.Claimed); // key 2 was given up for key 1
    claimKey(table, 0, 0, 0, 0, 0, 53, 1000, c);
    expect(c.result).toBe(ClaimResult.InFlight);
  });

  it('answers Full when every entry of the bucket is in flight, and takes back a dead thread\'s claims', () => {
    const table = createIdempotencyTable(WAYS, 64, 0);
    const c = claim();
    for (let key = 0; key < WAYS; key++) claimKey(table, key, 0, 0, 0, key % 2, 0, 1000, c);
    claimKey(table, 99, 0, 0, 0, 0, 0, 1000, c);
    expect(c.result).toBe(ClaimResult.Full);
    expect(releaseIdempotencyLane(table, 1)).toBe(WAYS / 2);
    claimKey(table, 99, 0, 0, 0, 0, 0, 1000, c);
    expect(c.result).toBe(ClaimResult.Claimed);
  });
});

describe('stored responses', () => {
  it('round-trips status, headers and body, and stores nothing past its limit', () => {
    const capture = new ResponseCapture(100);
    capture.start(201, [Buffer.from('content-type'), Buffer.from('application/json'), Buffer.from('x-id'), Buffer.from('42')]);
    capture.add(Buffer.from('{"id":'));
    capture.add(Buffer.from('42}'));
    const decoded = decodeResponse(capture.encode()!);
    expect(decoded.status).toBe(201);
    expect(decoded.headers.map(String)).toEqual(['content-type', 'application/json', 'x-id', '42']);
    expect(decoded.body.toString()).toBe('{"id":42}');
    capture.add(Buffer.alloc(100));
    expect(capture.encode()).toBeNull();
    expect(new ResponseCapture(100).encode()).toBeNull();
  });
});
