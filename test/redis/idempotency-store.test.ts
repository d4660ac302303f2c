import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalIdempotencyStore, type HeldKey } from '../../src/acceptor/idempotency-store.js';
import { RedisIdempotencyStore } from '../../src/acceptor/redis-idempotency-store.js';
import { settingsSchema, type Settings } from '../../src/config/schema.js';
import { hex64 } from '../../src/hash.js';
import { createLogger } from '../../src/log.js';
import { connectRedis } from '../../src/redis/connection.js';
import { idempotencyKey, IdempotencyScripts } from '../../src/redis/idempotency-scripts.js';
import { RedisOutage } from '../../src/redis/outage.js';
import { ClaimResult, createIdempotencyTable } from '../../src/shm/idempotency-table.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let server: RedisServer;
let settings: Readonly<Settings>;
let admin: Redis;
/** Connections the gateway's way (no offline queue: a call while one is down fails at once), closed in afterAll. */
const connections: Redis[] = [];
let gatewaySide: Redis;
let store: RedisIdempotencyStore;
/** Another instance: its own table and connection. */
let other: RedisIdempotencyStore;

async function connection(name: string, outage: RedisOutage): Promise<Redis> {
  const redis = connectRedis(settings, outage, name);
  connections.push(redis);
  await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

/** An instance's store on a connection of its own; `inFlight`: its claims' TTL unless renewed. */
async function instance(name: string, inFlight?: number, outage = new RedisOutage(createLogger('silent', { role: 'test' }), () => {})): Promise<[RedisIdempotencyStore, Redis]> {
  const redis = await connection(name, outage);
  const local = new LocalIdempotencyStore(createIdempotencyTable(64, 1024), 0, 60_000);
  return [new RedisIdempotencyStore(settings, new IdempotencyScripts(redis), local, outage, inFlight), redis];
}

beforeAll(async () => {
  server = await startRedis();
  settings = settingsSchema.parse({ redisUrl: server.url, sharedState: 'redis', redisTimeoutMs: 500 });
  admin = new Redis(server.url);
  [store, gatewaySide] = await instance('ringgate-test');
  [other] = await instance('ringgate-test-other');
});

afterAll(async () => {
  for (const redis of connections) redis.disconnect();
  admin.disconnect();
  await server.kill();
});

interface Verdict {
  result: ClaimResult;
  held: HeldKey | null;
  replay: Buffer | null;
}

const FINGERPRINT = { lo: 1, hi: 2 };
const claim = (store: RedisIdempotencyStore, lo: number, fingerprint = FINGERPRINT): Promise<Verdict> =>
  new Promise((resolve) => store.claim({ lo, hi: 0 }, fingerprint, (result, held, replay) => resolve({ result, held, replay })));
/** Closes the connection, resolving once it is closed (no reconnect until connect()). */
async function goOffline(redis: Redis): Promise<void> {
  const closed = new Promise((resolve) => redis.once('end', resolve));
  redis.disconnect();
  await closed;
}

const redisKey = (lo: number): string => idempotencyKey('ringgate:', hex64(lo, 0));

describe('the Redis idempotency store', () => {
  it('sends a completion that failed with the connection again once it is back: the key is not held for nothing', async () => {
    const first = await claim(store, 11);
    expect(first.result).toBe(ClaimResult.Claimed);
    // The connection drops (and comes back on its own) as the request completes.
    gatewaySide.disconnect(true);
    store.complete(first.held!, Buffer.from('the stored answer'));
    await expect.poll(async () => (await claim(other, 11)).result, { timeout: 5_000, interval: 50 }).toBe(ClaimResult.Replay);
    expect((await claim(other, 11)).replay?.toString()).toBe('the stored answer');
  });

  it('keeps a failed completion to send again however many claims fail meanwhile', async () => {
    const first = await claim(store, 12);
    expect(first.result).toBe(ClaimResult.Claimed);
    gatewaySide.disconnect(true);
    store.complete(first.held!, Buffer.from('kept'));
    // More claims than completions are kept fail while the connection is down: each queues its release.
    await Promise.all(Array.from({ length: 1_100 }, (_, i) => claim(store, 1_000 + i)));
    await expect.poll(async () => (await claim(other, 12)).result, { timeout: 5_000, interval: 50 }).toBe(ClaimResult.Replay);
    expect((await claim(other, 12)).replay?.toString()).toBe('kept');
  });
});

describe('a claim in Redis while its request runs', () => {
  it('holds past the in-flight TTL, renewed until the request completes, and is kept as completed', async () => {
    const inFlight = 400;
    const [renewing] = await instance('ringgate-test-renew', inFlight);
    const first = await claim(renewing, 21);
    expect(first.result).toBe(ClaimResult.Claimed);
    // An answer's body trickling in for over 3 in-flight TTLs: a duplicate still waits (409)
    // the whole time, never runs the write again.
    const until = performance.now() + 3 * inFlight;
    while (performance.now() < until) {
      expect((await claim(store, 21)).result).toBe(ClaimResult.InFlight);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    renewing.complete(first.held!, Buffer.from('done late'));
    await expect.poll(async () => (await claim(store, 21)).result, { timeout: 5_000, interval: 50 }).toBe(ClaimResult.Replay);
    expect((await claim(store, 21)).replay?.toString()).toBe('done late');
  });

  it('sends a completion Redis refused with the connection up (OOM) again at its next renewal: the answer is kept', async () => {
    const failures: string[] = [];
    const [renewing] = await instance('ringgate-test-oom', 400, new RedisOutage(createLogger('silent', { role: 'test' }), (use) => failures.push(use)));
    const first = await claim(renewing, 31);
    expect(first.result).toBe(ClaimResult.Claimed);
    // Every write refused while the connection stays up, as after a failover (READONLY) or at maxmemory.
    await admin.config('SET', 'maxmemory', '1');
    try {
      renewing.complete(first.held!, Buffer.from('kept through OOM'));
      await expect.poll(() => failures.length).toBeGreaterThan(0);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    // No reconnect comes: sent again only on the 'ready' of one, the claim would have run out
    // (400 ms) and the next duplicate run the write again.
    await expect.poll(async () => (await claim(store, 31)).result, { timeout: 5_000, interval: 50 }).toBe(ClaimResult.Replay);
    expect((await claim(store, 31)).replay?.toString()).toBe('kept through OOM');
  });

  it('sends the answer of a write whose claim Redis refused with the connection up (OOM) once Redis takes writes again: no claim of it is renewed', async () => {
    const failures: string[] = [];
    const [alone] = await instance('ringgate-test-oom-alone', 400, new RedisOutage(createLogger('silent', { role: 'test' }), (use) => failures.push(use)));
    await admin.config('SET', 'maxmemory', '1');
    try {
      // Refused in Redis: the instance's table alone holds the key, and nothing of it is renewed.
      const first = await claim(alone, 36);
      expect(first.result).toBe(ClaimResult.Claimed);
      alone.complete(first.held!, Buffer.from('ran alone through OOM'));
      await expect.poll(() => failures.length).toBeGreaterThan(1);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    // No reconnect comes, and no claim holds a renewal round: the answer is sent again all the same
    // (watched without claiming: a claim of the absent key would hold it against the answer).
    await expect.poll(async () => (await admin.get(redisKey(36)))?.slice(0, 1), { timeout: 5_000, interval: 50 }).toBe('D');
    expect((await claim(other, 36)).replay?.toString()).toBe('ran alone through OOM');
  });

  it('keeps an answer whose claim ran out while Redis was unreachable; another body with the key is still refused', async () => {
    const [renewing, down] = await instance('ringgate-test-late', 300);
    const first = await claim(renewing, 41);
    expect(first.result).toBe(ClaimResult.Claimed);
    // Redis unreachable past the in-flight TTL: the renewals fail, the marker runs out.
    await goOffline(down);
    renewing.complete(first.held!, Buffer.from('done while away'));
    await expect.poll(() => admin.exists(redisKey(41)), { timeout: 5_000, interval: 50 }).toBe(0);
    await down.connect();
    // The completion sent again finds no claim, and keeps the answer all the same: the write ran.
    await expect.poll(async () => (await claim(other, 41)).result, { timeout: 5_000, interval: 50 }).toBe(ClaimResult.Replay);
    expect((await claim(other, 41)).replay?.toString()).toBe('done while away');
    expect((await claim(other, 41, { lo: 9, hi: 9 })).result).toBe(ClaimResult.Reused);
  });
});

describe('a duplicate on the instance that claimed the key', () => {
  it('is refused while the write runs and gets its answer after, with the connection down, though the claim was made in Redis', async () => {
    const [own, down] = await instance('ringgate-test-down');
    const first = await claim(own, 51);
    expect(first.result).toBe(ClaimResult.Claimed);
    expect(await admin.exists(redisKey(51))).toBe(1);
    await goOffline(down);
    expect((await claim(own, 51)).result).toBe(ClaimResult.InFlight);
    own.complete(first.held!, Buffer.from('once'));
    const again = await claim(own, 51);
    expect(again.result).toBe(ClaimResult.Replay);
    expect(again.replay?.toString()).toBe('once');
    expect((await claim(own, 51, { lo: 9, hi: 9 })).result).toBe(ClaimResult.Reused);
  });

  it('gets the answer of a write whose claim failed (it ran on this instance alone) once Redis is back', async () => {
    const [own, down] = await instance('ringgate-test-failed');
    await goOffline(down);
    const first = await claim(own, 61);
    expect(first.result).toBe(ClaimResult.Claimed);
    own.complete(first.held!, Buffer.from('ran here'));
    await down.connect();
    const again = await claim(own, 61);
    expect(again.result).toBe(ClaimResult.Replay);
    expect(again.replay?.toString()).toBe('ran here');
    // Its answer reached Redis once the connection was back: other instances replay it too.
    await expect.poll(async () => (await claim(other, 61)).replay?.toString(), { timeout: 5_000, interval: 50 }).toBe('ran here');
  });
});

describe('claim tokens', () => {
  it('name each claim apart across threads and instances: 64 random bits per thread, then a count', async () => {
    const [second] = await instance('ringgate-test-tokens');
    for (let lo = 71; lo < 75; lo++) expect((await claim(store, lo)).result).toBe(ClaimResult.Claimed);
    for (let lo = 75; lo < 79; lo++) expect((await claim(second, lo)).result).toBe(ClaimResult.Claimed);
    const markers = await admin.mget(...Array.from({ length: 8 }, (_, i) => redisKey(71 + i)));
    // 'I', the fingerprint (16 hex digits), the token.
    const tokens = markers.map((marker) => marker!.slice(17));
    expect(new Set(tokens).size).toBe(8);
    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{16}[0-9a-z]+$/);
    const randomParts = new Set(tokens.map((token) => token.slice(0, 16)));
    expect(randomParts.size).toBe(2);
  });
});
