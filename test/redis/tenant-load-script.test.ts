import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantLoadScript, tenantLoadKeys } from '../../src/redis/tenant-load-script.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  redis.disconnect();
  await server.kill();
});

const pairs = (flat: string[]): Record<string, string> => Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]));

describe('the tenant-load exchange script (real redis-server)', () => {
  it("stores each instance's latest publication and answers the others'", async () => {
    const script = new TenantLoadScript(redis, 't1:');
    expect(await script.exchange('a', 'a-1', 60_000)).toEqual([]);
    expect(pairs(await script.exchange('b', 'b-1', 60_000))).toEqual({ a: 'a-1' });
    await script.exchange('a', 'a-2', 60_000);
    expect(pairs(await script.exchange('c', 'c-1', 60_000))).toEqual({ a: 'a-2', b: 'b-1' });
    expect(pairs(await script.exchange('a', 'a-3', 60_000))).toEqual({ b: 'b-1', c: 'c-1' });
  });

  it('keys share one hash tag, and expire after the retention', async () => {
    const script = new TenantLoadScript(redis, 't2:');
    const keys = tenantLoadKeys('t2:');
    expect(keys).toEqual({ sums: 't2:tenant-load:{fleet}:sums', seen: 't2:tenant-load:{fleet}:seen' });
    await script.exchange('a', 'a-1', 5000);
    for (const key of [keys.sums, keys.seen]) {
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5000);
    }
  });

  it('deletes the publication of an instance silent for the retention, by Redis time', async () => {
    const script = new TenantLoadScript(redis, 't3:');
    await script.exchange('silent', 's-1', 60_000);
    // 'busy' publishes on with a short retention until 'silent' is gone from the answer.
    await expect.poll(async () => pairs(await script.exchange('busy', 'b', 100)), { timeout: 5_000, interval: 20 }).toEqual({});
    expect(await redis.hkeys(tenantLoadKeys('t3:').sums)).toEqual(['busy']);
    expect(await redis.zrange(tenantLoadKeys('t3:').seen, '0', '-1')).toEqual(['busy']);
  });

  it('is loaded again after the script cache is flushed (NOSCRIPT)', async () => {
    const script = new TenantLoadScript(redis, 't4:');
    await script.exchange('a', 'a-1', 60_000);
    await redis.script('FLUSH');
    expect(pairs(await script.exchange('b', 'b-1', 60_000))).toEqual({ a: 'a-1' });
  });
});
