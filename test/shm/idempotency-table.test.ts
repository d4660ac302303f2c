import { describe, expect, it } from 'vitest';
import { LOCKS_OFFSET, lockBucket, releaseLocksOf, unlockBucket, WAYS } from '../../src/shm/bucket-table.js';
import { ResponseCapture, decodeResponse } from '../../src/acceptor/stored-response.js';
import { fieldTexts, rawFields } from '../helpers/raw-fields.js';
import {
  attachIdempotencyTable,
  claimKey,
  ClaimResult,
  completeKey,
  createIdempotencyTable,
  idempotencyEvictions,
  releaseIdempotencyLane,
  type Claim,
  type IdempotencyTable,
  USES,
} from '../../src/shm/idempotency-table.js';

const claim = (): Claim => ({ result: ClaimResult.Full, entry: -1, claim: 0, replay: null });

/** Claims (keyLo, 0) with fingerprint (fp, 0) at `now` on lane 0; returns the claim. */
function take(table: IdempotencyTable, key: number, fp: number, now = 0, lane = 0): Claim {
  const c = claim();
  claimKey(table, key, 0, fp, 0, lane, now, c);
  return c;
}

const done = (table: IdempotencyTable, c: Claim, answer: string | null, expires = 10_000) =>
  completeKey(table, c.entry, c.claim, answer === null ? null : Buffer.from(answer), expires);

describe('shared idempotency table', () => {
  it('claims a new key, refuses a duplicate in flight, replays it once done, and refuses it for another request', () => {
    const table = createIdempotencyTable(16, 64);
    const other = attachIdempotencyTable(table.buffer, 1);
    const first = take(table, 7, 100);
    expect(first.result).toBe(ClaimResult.Claimed);
    expect(take(other, 7, 100, 1, 1).result).toBe(ClaimResult.InFlight);
    done(table, first, 'stored answer');
    const dup = take(other, 7, 100, 2, 1);
    expect(dup.result).toBe(ClaimResult.Replay);
    expect(dup.replay!.toString()).toBe('stored answer');
    expect(take(other, 7, 999, 2, 1).result).toBe(ClaimResult.Reused);
  });

  it('completes a claim made as its use counter wraps past 2^31', () => {
    const table = createIdempotencyTable(16, 64);
    table.words[USES] = 2 ** 31 - 1;
    const first = take(table, 7, 100);
    done(table, first, 'stored answer');
    expect(take(table, 7, 100, 1).result).toBe(ClaimResult.Replay);
  });

  it('lets a key go when its request failed, or its answer does not fit a slot', () => {
    const table = createIdempotencyTable(16, 8);
    done(table, take(table, 5, 1), null);
    const second = take(table, 5, 2);
    expect(second.result).toBe(ClaimResult.Claimed);
    done(table, second, 'nine byte');
    expect(take(table, 5, 2).result).toBe(ClaimResult.Claimed);
  });

  it('keeps a claim in flight however long its request runs, and forgets a done key after its TTL', () => {
    const table = createIdempotencyTable(16, 64);
    const c = take(table, 9, 1);
    expect(take(table, 9, 1, 1_000_000).result).toBe(ClaimResult.InFlight);
    done(table, c, 'x', 100);
    expect(take(table, 9, 1, 99).result).toBe(ClaimResult.Replay);
    expect(take(table, 9, 2, 100).result).toBe(ClaimResult.Claimed);
  });

  it('completes only the claim it was given: a key claimed anew after a dead thread is not touched', () => {
    const table = createIdempotencyTable(16, 64);
    const old = take(table, 3, 1, 0, 1);
    releaseIdempotencyLane(table, 1);
    const fresh = take(table, 3, 1, 0, 0);
    done(table, old, 'the dead thread');
    expect(take(table, 3, 1).result).toBe(ClaimResult.InFlight);
    done(table, fresh, 'the live one');
    expect(take(table, 3, 1).replay!.toString()).toBe('the live one');
  });

  it("frees the buckets a dead thread held, and only its own: the release of its claims then runs", () => {
    const table = createIdempotencyTable(16, 64);
    const dead = attachIdempotencyTable(table.buffer, 2);
    const live = attachIdempotencyTable(table.buffer, 3);
    take(dead, 5, 1, 0, 2);
    // Each stopped inside a critical section: their bucket locks stay taken.
    lockBucket(dead, LOCKS_OFFSET);
    lockBucket(live, LOCKS_OFFSET + 1);
    expect(releaseLocksOf(table, 2)).toBe(1);
    expect(Atomics.load(table.words, LOCKS_OFFSET)).toBe(0);
    expect(Atomics.load(table.words, LOCKS_OFFSET + 1)).toBe(4);
    unlockBucket(live, LOCKS_OFFSET + 1);
    // Would spin for good on a bucket still held.
    expect(releaseIdempotencyLane(table, 2)).toBe(1);
  });

  it('gives up the least recently used done key when a bucket is full, never one in flight', () => {
    const table = createIdempotencyTable(WAYS, 64); // one bucket
    take(table, 0, 0); // stays in flight
    for (let key = 1; key < WAYS; key++) done(table, take(table, key, key), `k${key}`);
    // A replay counts as a use: key 1 is no longer the least recently used, key 2 is.
    expect(take(table, 1, 1).result).toBe(ClaimResult.Replay);
    expect(take(table, 100, 100).result).toBe(ClaimResult.Claimed);
    expect(idempotencyEvictions(table)).toBe(1);
    expect(take(table, 1, 1).result).toBe(ClaimResult.Replay);
    expect(take(table, 3, 3).result).toBe(ClaimResult.Replay);
    expect(take(table, 2, 2).result).toBe(ClaimResult.Claimed); // given up, so claimed anew
    expect(take(table, 0, 0).result).toBe(ClaimResult.InFlight);
  });

  it("answers Full when every entry of the bucket is in flight, and takes back a dead thread's claims", () => {
    const table = createIdempotencyTable(WAYS, 64);
    for (let key = 0; key < WAYS; key++) take(table, key, 0, 0, key % 2);
    expect(take(table, 99, 0).result).toBe(ClaimResult.Full);
    expect(releaseIdempotencyLane(table, 1)).toBe(WAYS / 2);
    expect(take(table, 99, 0).result).toBe(ClaimResult.Claimed);
  });
});

describe('stored responses', () => {
  it('round-trips status, headers and body, and stores nothing past its limit', () => {
    const capture = new ResponseCapture(100);
    capture.start(201, rawFields('content-type', 'application/json', 'x-id', '42'));
    capture.add(Buffer.from('{"id":'));
    capture.add(Buffer.from('42}'));
    const decoded = decodeResponse(capture.encode()!);
    expect(decoded.status).toBe(201);
    expect(fieldTexts(decoded.fields)).toEqual(['content-type', 'application/json', 'x-id', '42']);
    expect(decoded.body.toString()).toBe('{"id":42}');
    capture.add(Buffer.alloc(100));
    expect(capture.encode()).toBeNull();
    expect(new ResponseCapture(100).encode()).toBeNull();
  });
});
