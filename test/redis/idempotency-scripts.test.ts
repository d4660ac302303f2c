import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inFlightMs } from '../../src/acceptor/redis-idempotency-store.js';
import { idempotencyKey, IdempotencyScripts, RedisClaim } from '../../src/redis/idempotency-scripts.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;
let scripts: IdempotencyScripts;
const FP = '0123456789abcdef';
const OTHER_FP = 'fedcba9876543210';

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  scripts = new IdempotencyScripts(redis);
});

afterAll(async () => {
  redis.disconnect();
  await server.kill();
});

describe('the idempotency scripts (real redis-server)', () => {
  it('claims once, refuses the duplicate in flight or reused, then replays the stored bytes', async () => {
    const key = idempotencyKey('t1:', 'aa');
    expect(key).toBe('t1:idem:{aa}');
    expect(await scripts.claim(key, FP, '7', 60_000)).toEqual([RedisClaim.Claimed]);
    expect(await scripts.claim(key, FP, '8', 60_000)).toEqual([RedisClaim.InFlight]);
    expect(await scripts.claim(key, OTHER_FP, '9', 60_000)).toEqual([RedisClaim.Reused]);
    const response = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    expect(await scripts.complete(key, FP, '7', response, 5_000)).toBe(1);
    const [result, stored] = await scripts.claim(key, FP, '10', 60_000);
    expect(result).toBe(RedisClaim.Replay);
    expect(stored!.equals(response)).toBe(true);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it('completes only the claim named by its token: a late completion never overwrites a newer claim', async () => {
    const key = idempotencyKey('t2:', 'bb');
    await scripts.claim(key, FP, '1', 60_000);
    // The first claim ran out (its instance died); another took the key.
    await redis.del(key);
    await scripts.claim(key, FP, '2', 60_000);
    expect(await scripts.complete(key, FP, '1', Buffer.from('stale'), 5_000)).toBe(0);
    expect(await scripts.claim(key, FP, '3', 60_000)).toEqual([RedisClaim.InFlight]);
  });

  it('keeps the answer of a claim that ran out under its fingerprint, and leaves a claim or an answer of another alone', async () => {
    const key = idempotencyKey('t5:', 'ee');
    expect(await scripts.complete(key, FP, '1', Buffer.from('late answer'), 5_000)).toBe(1);
    const [result, stored] = await scripts.claim(key, FP, '2', 60_000);
    expect(result).toBe(RedisClaim.Replay);
    expect(stored!.toString()).toBe('late answer');
    expect(await scripts.claim(key, OTHER_FP, '3', 60_000)).toEqual([RedisClaim.Reused]);
    // Kept once: a second late completion does not replace it.
    expect(await scripts.complete(key, FP, '1', Buffer.from('again'), 5_000)).toBe(0);
    expect(await scripts.complete(key, OTHER_FP, '4', Buffer.from('another'), 5_000)).toBe(0);
    expect((await scripts.claim(key, FP, '5', 60_000))[1]!.toString()).toBe('late answer');
    // Another request's claim holds the key: not overwritten.
    const claimed = idempotencyKey('t5:', 'ff');
    await scripts.claim(claimed, FP, '6', 60_000);
    expect(await scripts.complete(claimed, FP, '7', Buffer.from('stale'), 5_000)).toBe(0);
    expect(await scripts.claim(claimed, FP, '8', 60_000)).toEqual([RedisClaim.InFlight]);
    // A release of a claim that ran out leaves nothing behind.
    const released = idempotencyKey('t5:', '00');
    expect(await scripts.complete(released, FP, '9', null, 5_000)).toBe(0);
    expect(await redis.exists(released)).toBe(0);
  });

  it('lets the key go when the request ends without an answer to keep', async () => {
    const key = idempotencyKey('t3:', 'cc');
    await scripts.claim(key, FP, '1', 60_000);
    expect(await scripts.complete(key, FP, '1', null, 5_000)).toBe(1);
    expect(await scripts.claim(key, OTHER_FP, '2', 60_000)).toEqual([RedisClaim.Claimed]);
  });

  it('holds an in-flight claim past the longest wait for an answer, so only a dead instance\'s claim runs out', async () => {
    const key = idempotencyKey('t4:', 'dd');
    await scripts.claim(key, FP, '1', inFlightMs(30_000));
    expect(await redis.pttl(key)).toBeGreaterThan(59_000);
    expect(inFlightMs(30_000)).toBe(60_000);
    expect(inFlightMs(100_000)).toBe(200_000);
  });
});
