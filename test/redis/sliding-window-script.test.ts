import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateLimitKey, SlidingWindowScript } from '../../src/redis/rate-limit-script.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;
let script: SlidingWindowScript;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
  script = new SlidingWindowScript(redis);
});

afterAll(async () => {
  redis.disconnect();
  await server.kill();
});

describe('the sliding-window script (real redis-server)', () => {
  it('allows exactly the limit in a window, then refuses with a retry time inside the window', async () => {
    // A long window, so the test never straddles two.
    const key = rateLimitKey('t1:', 'aaaa', 60_000);
    const hits = await Promise.all(Array.from({ length: 30 }, () => script.hit(key, 20, 60_000, 1)));
    const allowed = hits.filter(([ok]) => ok === 1);
    expect(allowed).toHaveLength(20);
    const refused = hits.filter(([ok]) => ok === 0);
    for (const [, remaining, resetMs, retryMs] of refused) {
      expect(remaining).toBe(0);
      expect(resetMs).toBeGreaterThan(0);
      expect(resetMs).toBeLessThanOrEqual(60_000);
      // Full window: the earliest next request fits after the window ends, plus a limit-th of one.
      expect(retryMs).toBeGreaterThanOrEqual(resetMs);
      expect(retryMs).toBeLessThanOrEqual(resetMs + 60_000 / 20 + 1);
    }
    expect(allowed.map(([, remaining]) => remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('keys are hash-tagged and expire after two windows', async () => {
    const key = rateLimitKey('t2:', 'bbbb', 1000);
    expect(key).toBe('t2:rl:{bbbb}:1000');
    await script.hit(key, 5, 1000, 1);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2000);
  });

  it('is loaded again after the script cache is flushed (NOSCRIPT)', async () => {
    const key = rateLimitKey('t3:', 'cccc', 60_000);
    await script.hit(key, 3, 60_000, 1);
    await redis.script('FLUSH');
    const [allowed, remaining] = await script.hit(key, 3, 60_000, 1);
    expect(allowed).toBe(1);
    expect(remaining).toBe(1);
  });

  it("never resets a key whose window is one ahead of Redis's clock (a failover to a lagging replica): it counts there", async () => {
    const key = rateLimitKey('t6:', 'ffff', 60_000);
    const [seconds] = await redis.time();
    const ahead = Math.floor((Number(seconds) * 1000) / 60_000) + 1;
    await redis.hset(key, 'w', ahead, 'p', 0, 'c', 3);
    const [allowed, remaining, resetMs] = await script.hit(key, 3, 60_000, 1);
    expect([allowed, remaining, resetMs]).toEqual([0, 0, 60_000]);
    expect(await redis.hmget(key, 'w', 'c')).toEqual([String(ahead), '3']);
  });

  it('counts a batch of hits as if they came one by one: as many as fit are allowed', async () => {
    const key = rateLimitKey('t5:', 'eeee', 60_000);
    expect(await script.hit(key, 10, 60_000, 4)).toEqual([4, 6, expect.any(Number), 0]);
    const [allowed, remaining, resetMs, retryMs] = await script.hit(key, 10, 60_000, 9);
    expect([allowed, remaining]).toEqual([6, 0]);
    expect(retryMs).toBeGreaterThanOrEqual(resetMs);
    expect((await script.hit(key, 10, 60_000, 3))[0]).toBe(0);
  });
});
