import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalIdempotencyStore } from '../../src/acceptor/idempotency-store.js';
import { RedisIdempotencyStore } from '../../src/acceptor/redis-idempotency-store.js';
import { settingsSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { connectRedis } from '../../src/redis/connection.js';
import { IdempotencyScripts } from '../../src/redis/idempotency-scripts.js';
import { RedisOutage } from '../../src/redis/outage.js';
import { ClaimResult, createIdempotencyTable, type Claim } from '../../src/shm/idempotency-table.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let gatewaySide: Redis;
let store: RedisIdempotencyStore;

beforeAll(async () => {
  server = await startRedis();
  const settings = settingsSchema.parse({ redisUrl: server.url, sharedState: 'redis', redisTimeoutMs: 500 });
  const outage = new RedisOutage(createLogger('silent', { role: 'test' }), () => {});
  // The gateway's own connection: no offline queue, so a call while it is down fails at once.
  gatewaySide = connectRedis(settings, outage, 'ringgate-test');
  await new Promise((resolve) => gatewaySide.once('ready', resolve));
  store = new RedisIdempotencyStore(settings, new IdempotencyScripts(gatewaySide), new LocalIdempotencyStore(createIdempotencyTable(64, 1024), 0, 60_000), outage);
});

afterAll(async () => {
  gatewaySide.disconnect();
  await server.kill();
});

const claim = (store: RedisIdempotencyStore, lo: number): Promise<Claim> => new Promise((resolve) => store.claim({ lo, hi: 0 }, { lo: 1, hi: 2 }, resolve));

describe('the Redis idempotency store', () => {
  it('sends a completion that failed with the connection again once it is back: the key is not held for nothing', async () => {
    const first = await claim(store, 11);
    expect(first.result).toBe(ClaimResult.Claimed);
    // The connection drops (and comes back on its own) as the request completes.
    gatewaySide.disconnect(true);
    store.complete({ entry: first.entry, claim: first.claim, keyLo: 11, keyHi: 0 }, Buffer.from('the stored answer'));
    await expect.poll(async () => (await claim(store, 11)).result, { timeout: 5_000, interval: 50 }).toBe(ClaimResult.Replay);
    expect((await claim(store, 11)).replay?.toString()).toBe('the stored answer');
  });

  it('keeps a failed completion to send again however many claims fail meanwhile', async () => {
    const first = await claim(store, 12);
    expect(first.result).toBe(ClaimResult.Claimed);
    gatewaySide.disconnect(true);
    store.complete({ entry: first.entry, claim: first.claim, keyLo: 12, keyHi: 0 }, Buffer.from('kept'));
    // More claims than completions are kept fail while the connection is down: each queues its release.
    await Promise.all(Array.from({ length: 1_100 }, (_, i) => claim(store, 1_000 + i)));
    await expect.poll(async () => (await claim(store, 12)).result, { timeout: 5_000, interval: 50 }).toBe(ClaimResult.Replay);
    expect((await claim(store, 12)).replay?.toString()).toBe('kept');
  });
});

describe('a claim in Redis while its request runs', () => {
  it('holds past the in-flight TTL, renewed until the request completes, and is kept as completed', async () => {
    const settings = settingsSchema.parse({ redisUrl: server.url, sharedState: 'redis', redisTimeoutMs: 500 });
    const outage = new RedisOutage(createLogger('silent', { role: 'test' }), () => {});
    const connection = connectRedis(settings, outage, 'ringgate-test-renew');
    await new Promise((resolve) => connection.once('ready', resolve));
    const local = new LocalIdempotencyStore(createIdempotencyTable(64, 1024), 0, 60_000);
    const inFlight = 400;
    const renewing = new RedisIdempotencyStore(settings, new IdempotencyScripts(connection), local, outage, inFlight);
    try {
      const first = await claim(renewing, 21);
      expect(first.result).toBe(ClaimResult.Claimed);
      // An answer's body trickling in for over 3 in-flight TTLs: a duplicate still waits (409)
      // the whole time, never runs the write again.
      const until = performance.now() + 3 * inFlight;
      while (performance.now() < until) {
        expect((await claim(store, 21)).result).toBe(ClaimResult.InFlight);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      renewing.complete({ entry: first.entry, claim: first.claim, keyLo: 21, keyHi: 0 }, Buffer.from('done late'));
      await expect.poll(async () => (await claim(store, 21)).result, { timeout: 5_000, interval: 50 }).toBe(ClaimResult.Replay);
      expect((await claim(store, 21)).replay?.toString()).toBe('done late');
    } finally {
      connection.disconnect();
    }
  });

  it('sends a completion Redis refused with the connection up (OOM) again at its next renewal: the answer is kept', async () => {
    const settings = settingsSchema.parse({ redisUrl: server.url, sharedState: 'redis', redisTimeoutMs: 500 });
    const failures: string[] = [];
    const outage = new RedisOutage(createLogger('silent', { role: 'test' }), (use) => failures.push(use));
    const connection = connectRedis(settings, outage, 'ringgate-test-oom');
    await new Promise((resolve) => connection.once('ready', resolve));
    const admin = new Redis(server.url);
    const local = new LocalIdempotencyStore(createIdempotencyTable(64, 1024), 0, 60_000);
    const renewing = new RedisIdempotencyStore(settings, new IdempotencyScripts(connection), local, outage, 400);
    try {
      const first = await claim(renewing, 31);
      expect(first.result).toBe(ClaimResult.Claimed);
      // Every write refused while the connection stays up, as after a failover (READONLY) or at maxmemory.
      await admin.config('SET', 'maxmemory', '1');
      try {
        renewing.complete({ entry: first.entry, claim: first.claim, keyLo: 31, keyHi: 0 }, Buffer.from('kept through OOM'));
        await expect.poll(() => failures.length).toBeGreaterThan(0);
      } finally {
        await admin.config('SET', 'maxmemory', '0');
      }
      // No reconnect comes: sent again only on the 'ready' of one, the claim would have run out
      // (400 ms) and the next duplicate run the write again.
      await expect.poll(async () => (await claim(store, 31)).result, { timeout: 5_000, interval: 50 }).toBe(ClaimResult.Replay);
      expect((await claim(store, 31)).replay?.toString()).toBe('kept through OOM');
    } finally {
      admin.disconnect();
      connection.disconnect();
    }
  });
});
