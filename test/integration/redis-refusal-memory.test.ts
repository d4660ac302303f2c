import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectDigest } from '../../src/hash.js';
import { rateLimitKey, SlidingWindowScript } from '../../src/redis/rate-limit-script.js';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { pooled, send } from '../helpers/http.js';
import { scriptCalls, startRedis, type RedisServer } from '../helpers/redis-server.js';

let redisServer: RedisServer;
let redis: Redis;
let backend: Backend;
let gateway: GatewayProcess;

const WINDOW_MS = 60_000;

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  backend = await startBackend('r0');
  gateway = await startGateway(
    {
      routes: [{ prefix: '/keyed/', cluster: 'c', requireTenant: false, rateLimit: { requests: 1, windowMs: WINDOW_MS, by: { header: 'x-api-key' } } }],
      clusters: { c: { nodes: [{ id: 'r0', url: backend.url }] } },
    },
    // A generous timeout: a verdict that failed under load would be decided by the local count instead.
    { GATEWAY_THREADS: '1', GATEWAY_RATE_LIMIT_MODE: 'redis', GATEWAY_REDIS_URL: redisServer.url, GATEWAY_REDIS_TIMEOUT_MS: '1000', GATEWAY_ACCESS_LOG: 'off' },
  );
}, 30_000);

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  redis?.disconnect();
  await backend?.close();
  await redisServer?.kill();
});

describe('rate limiting, redis mode, keys refused locally', () => {
  it("keeps no client's header value for a key it refuses without asking Redis: a thread's heap stays small", async () => {
    const oldSpace = async (): Promise<number> => metricValue(await gateway.metrics(), 'nodejs_heap_space_size_used_bytes', 'thread="0"', 'space="old"');
    // 3000 API keys of 15 KB each (a head stays under GATEWAY_MAX_HEADER_BYTES), already spent
    // by another instance of the fleet: each one's first request here is refused, and remembered.
    const filler = 'k'.repeat(15_000);
    const apiKeys = Array.from({ length: 3000 }, (_, i) => `${i}-${filler}`);
    const script = new SlidingWindowScript(redis);
    await Promise.all(apiKeys.map((apiKey) => script.hit(rateLimitKey('ringgate:', subjectDigest(`prefix:/keyed/\nh:${apiKey}`), WINDOW_MS), 1, WINDOW_MS, 1)));
    const before = await oldSpace();
    const statuses = await pooled(4, apiKeys.map((apiKey) => async () => (await send(gateway.port, '/keyed/x', { headers: { 'x-api-key': apiKey } })).status));
    expect(statuses).toEqual(apiKeys.map(() => 429));
    // Kept whole, the values would be 45 MB; what else the requests left behind is about 10.
    expect((await oldSpace()) - before).toBeLessThan((apiKeys.length * filler.length) / 2);
    // Each is still refused here without asking Redis again.
    const calls = await scriptCalls(redis);
    expect((await send(gateway.port, '/keyed/x', { headers: { 'x-api-key': apiKeys[0]! } })).status).toBe(429);
    expect(await scriptCalls(redis)).toBe(calls);
  }, 60_000);
});
