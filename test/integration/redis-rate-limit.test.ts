import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import xxhash from 'xxhash-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { decidedWithin, type Stamped } from '../helpers/decided-within.js';
import { expectError, send } from '../helpers/http.js';
import { uploadAtOnce } from '../helpers/raw-http.js';
import { heldScripts, scriptCalls, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { forgeXxh64 } from '../helpers/xxh64-forgery.js';

let redisServer: RedisServer;
let redis: Redis;
let backend: Backend;
const gateways: GatewayProcess[] = [];

/** Echoes what it received: the body's length and digest. */
function echoBody(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void {
  const hash = createHash('sha256');
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
}

const CONFIG = {
  routes: [
    { prefix: '/fleet/', cluster: 'c', rateLimit: { requests: 60, windowMs: 1000 } },
    { prefix: '/strict/', cluster: 'c', rateLimit: { requests: 2, windowMs: 60_000 } },
    { prefix: '/open/', cluster: 'c', rateLimit: { requests: 100_000, windowMs: 1000 } },
  ],
  clusters: { c: { nodes: [] as { id: string; url: string }[] } },
};

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  // The outage test kills the server under this connection too.
  redis.on('error', () => {});
  backend = await startBackend('r0', echoBody);
  CONFIG.clusters.c.nodes = [{ id: 'r0', url: backend.url }];
  // No access log: its lines are work for this process while the fleet test stamps the answers it counts by.
  const env = { GATEWAY_THREADS: '1', GATEWAY_RATE_LIMIT_MODE: 'redis', GATEWAY_REDIS_URL: redisServer.url, GATEWAY_REDIS_TIMEOUT_MS: '200', GATEWAY_ACCESS_LOG: 'off' };
  // Three instances: separate processes sharing one Redis, as behind a load balancer.
  gateways.push(...(await Promise.all([startGateway(CONFIG, env), startGateway(CONFIG, env), startGateway(CONFIG, env)])));
}, 60_000);

afterAll(async () => {
  for (const gateway of gateways) expect(await gateway.stop()).toBe(0);
  redis?.disconnect();
  await backend?.close();
  await redisServer?.kill();
});

/** Polls `check` until it holds or `deadlineMs` passes. */
async function eventually(check: () => Promise<boolean>, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('rate limiting, redis mode (3 instances, one Redis)', () => {
  it('holds a tenant to 60 requests per second across the fleet, within 5%', async () => {
    // Start on a second boundary: Redis's windows are its clock's seconds (the same host's clock here).
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
    const start = Date.now();
    const allowed: Stamped[] = [];
    let refused = 0;
    const loop = async (gateway: GatewayProcess): Promise<void> => {
      while (Date.now() - start < 3500) {
        const sentAt = Date.now();
        const reply = await send(gateway.port, '/fleet/x', { tenant: 'busy' });
        if (reply.status === 200) allowed.push([sentAt, Date.now()]);
        else {
          expectError(reply, 'ERR_RATE_LIMITED');
          refused++;
        }
      }
    };
    await Promise.all(gateways.flatMap((gateway) => Array.from({ length: 8 }, () => loop(gateway))));
    // Seconds 1 and 2 are whole windows after the first: those surely decided in them are at most
    // 126, those that may have been at least 114.
    const second1 = start - (start % 1000) + 1000;
    const { surely, maybe } = decidedWithin(allowed, second1, second1 + 2000);
    expect(surely).toBeLessThanOrEqual(126);
    expect(maybe).toBeGreaterThanOrEqual(114);
    expect(refused).toBeGreaterThan(100);
    // Every instance refused some: the limit is the fleet's, not one instance's.
    for (const gateway of gateways) expect(metricValue(await gateway.metrics(), 'ringgate_rate_limited_total', 'route="prefix:/fleet/"')).toBeGreaterThan(0);
  }, 20_000);

  it('refuses a key Redis refused without asking Redis again until one more could fit', async () => {
    const before = await scriptCalls(redis);
    const [gateway] = gateways;
    const first = await send(gateway!.port, '/strict/x', { tenant: 'pre' });
    expect(first.headers['ratelimit-remaining']).toBe('1');
    expect((await send(gateway!.port, '/strict/x', { tenant: 'pre' })).status).toBe(200);
    const refusals = [];
    for (let i = 0; i < 20; i++) refusals.push(await send(gateway!.port, '/strict/x', { tenant: 'pre' }));
    for (const reply of refusals) {
      expectError(reply, 'ERR_RATE_LIMITED');
      expect(reply.headers['ratelimit-limit']).toBe('2');
      expect(reply.headers['ratelimit-remaining']).toBe('0');
      expect(Number(reply.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(reply.headers['retry-after'])).toBeLessThanOrEqual(90);
    }
    // Two allowed and the first refusal asked Redis; the 19 after it were refused here.
    expect((await scriptCalls(redis)) - before).toBe(3);
  });

  it("gives a tenant forged to meet another's key under an unseeded xxHash64 (as Redis keys were named) a count of its own", async () => {
    const subject = 'prefix:/strict/\nt:';
    const forged = forgeXxh64(subject, (await xxhash()).h64(`${subject}victim`, 0n)).slice(subject.length);
    const statusOf = async (tenant: string) => (await send(gateways[1]!.port, '/strict/x', { tenant })).status;
    expect([await statusOf(forged), await statusOf(forged), await statusOf('victim')]).toEqual([200, 200, 200]);
  });

  it('passes request bodies through while the verdict comes: read whole when small, streamed when large', async () => {
    const small = Buffer.alloc(2000, 7);
    const large = Buffer.alloc(300_000, 9);
    for (const body of [small, large]) {
      const reply = await send(gateways[1]!.port, '/open/upload', { method: 'POST', tenant: 'up', body });
      expect(reply.status).toBe(200);
      expect(JSON.parse(reply.text)).toEqual({ bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
      expect(reply.headers['ratelimit-limit']).toBe('100000');
    }
  });

  it('answers a refusal Redis decided while the body streamed in, not a reset: the rest is read and dropped first', async () => {
    const port = gateways[2]!.port;
    const refused = [];
    for (let i = 0; i < 5; i++) {
      const tenant = `streamed-${i}`;
      // Two allowed; the third asks Redis while its body (past GATEWAY_BUFFER_BODY_BYTES: streamed) comes.
      for (let n = 0; n < 2; n++) expect((await send(port, '/strict/x', { tenant })).status).toBe(200);
      refused.push(await uploadAtOnce(port, '/strict/up', 8 * 1024 * 1024, `X-Tenant-ID: ${tenant}\r\n`));
    }
    // Read and dropped, the body is all taken: no write into a closed connection, no reset.
    expect(refused).toEqual(Array(5).fill({ statuses: [429], error: null }));
  });

  it('ends a request whose client left while Redis decided exactly once, and goes on serving', async () => {
    const [gateway] = gateways;
    const counted = async (): Promise<number> => metricValue(await gateway!.metrics(), 'ringgate_http_requests_total', 'route="prefix:/open/"');
    const before = await counted();
    const refusedOrLeft = async (): Promise<number> => metricValue(await gateway!.metrics(), 'ringgate_http_requests_total', 'route="prefix:/open/"', 'status_class="4xx"');
    const leftBefore = await refusedOrLeft();
    // Redis runs no script for 500 ms: the client leaves once the limit's call has reached Redis,
    // and the verdict (its 200 ms timeout) comes after.
    await redis.client('PAUSE', 500, 'WRITE');
    const socket = connect(gateway!.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('GET /open/leaving HTTP/1.1\r\nHost: x\r\nX-Tenant-Id: leaving\r\n\r\n');
    await expect.poll(() => heldScripts(redis, 'ringgate-acceptor-0'), { timeout: 5_000, interval: 5 }).toBe(1);
    socket.destroy();
    // Its ending, counted once (as 499), whenever the verdict comes after it.
    await expect.poll(counted, { timeout: 5_000, interval: 100 }).toBe(before + 1);
    // As the client's leaving (499), not as an answer the verdict made (200): it left while Redis decided.
    expect(await refusedOrLeft()).toBe(leftBefore + 1);
    // The pause is over once Redis holds no script of the instances' threads.
    await expect.poll(() => heldScripts(redis, 'ringgate-acceptor-0'), { timeout: 5_000, interval: 5 }).toBe(0);
    expect((await send(gateway!.port, '/open/after', { tenant: 'leaving' })).status).toBe(200);
    expect(await counted()).toBe(before + 2);
  });

  it('shares a limit only between instances of one GATEWAY_REDIS_KEY_PREFIX', async () => {
    const other = await startGateway(CONFIG, { GATEWAY_THREADS: '1', GATEWAY_RATE_LIMIT_MODE: 'redis', GATEWAY_REDIS_URL: redisServer.url, GATEWAY_REDIS_KEY_PREFIX: 'other-fleet:', GATEWAY_ACCESS_LOG: 'off' });
    try {
      const status = async (gateway: GatewayProcess): Promise<number> => (await send(gateway.port, '/strict/x', { tenant: 'two-fleets' })).status;
      // The same (default) prefix: two instances share the tenant's 2 per minute.
      expect([await status(gateways[0]!), await status(gateways[1]!), await status(gateways[0]!)]).toEqual([200, 200, 429]);
      // Another prefix on the same Redis: a count of its own, as full as if the first fleet had sent nothing.
      expect([await status(other), await status(other), await status(other)]).toEqual([200, 200, 429]);
      // Decided by Redis, under its own keys (not by the local count a Redis failure falls back to).
      expect(metricValue(await other.metrics(), 'ringgate_redis_errors_total', 'use="rate_limit"')).toBe(0);
      expect((await redis.keys('other-fleet:rl:*')).length).toBeGreaterThan(0);
      expect((await redis.keys('ringgate:rl:*')).length).toBeGreaterThan(0);
    } finally {
      expect(await other.stop()).toBe(0);
    }
  });

  it('fails open while Redis is down (counted), and limits across the fleet again once it is back', async () => {
    await redisServer.kill();
    const outage = await Promise.all(Array.from({ length: 30 }, (_, i) => send(gateways[i % 3]!.port, '/open/x', { tenant: `down-${i % 5}` })));
    expect(outage.map((r) => r.status)).toEqual(outage.map(() => 200));
    const errors = (await Promise.all(gateways.map(async (g) => metricValue(await g.metrics(), 'ringgate_redis_errors_total', 'use="rate_limit"')))).reduce((a, b) => a + b);
    expect(errors).toBeGreaterThanOrEqual(30);
    // Meanwhile each instance still limits on its own: 2 per minute per instance.
    const local = [];
    for (let i = 0; i < 4; i++) local.push((await send(gateways[0]!.port, '/strict/x', { tenant: 'outage-local' })).status);
    expect(local).toEqual([200, 200, 429, 429]);

    await redisServer.restart();
    // Limited by Redis again when two instances together get only the fleet's 2 (a local count would give 4).
    let round = 0;
    const resumed = await eventually(async () => {
      const tenant = `back-${round++}`;
      const statuses = [];
      for (const gateway of [gateways[1]!, gateways[2]!, gateways[1]!, gateways[2]!]) statuses.push((await send(gateway.port, '/strict/x', { tenant })).status);
      return statuses.filter((s) => s === 200).length === 2;
    }, 15_000);
    expect(resumed).toBe(true);
  }, 30_000);
});

describe('rate limiting, redis mode, a body over the limit while the verdict comes', () => {
  it('answers 413 once the client sent it all, and the thread lives on', async () => {
    const gateway = await startGateway(CONFIG, { GATEWAY_THREADS: '1', GATEWAY_RATE_LIMIT_MODE: 'redis', GATEWAY_REDIS_URL: redisServer.url, GATEWAY_MAX_BODY_BYTES: '1000' });
    try {
      // Chunked, so no Content-Length lets admission refuse it first; sent in one write, it is all there before Redis answers.
      const reply = await send(gateway.port, '/open/upload', { method: 'POST', tenant: 'big', body: Buffer.alloc(5000, 1), headers: { 'transfer-encoding': 'chunked' } });
      expectError(reply, 'ERR_BODY_TOO_LARGE');
      expect((await send(gateway.port, '/open/x', { tenant: 'big' })).status).toBe(200);
      expect(gateway.logs.filter((line) => line.includes('acceptor thread'))).toEqual([]);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });
});

describe('rate limiting, redis mode, Redis unreachable from the start', () => {
  it('starts, serves and counts every failed call', async () => {
    const gateway = await startGateway(CONFIG, { GATEWAY_THREADS: '1', GATEWAY_RATE_LIMIT_MODE: 'redis', GATEWAY_REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      const replies = await Promise.all(Array.from({ length: 5 }, () => send(gateway.port, '/open/x', { tenant: 'nobody' })));
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(metricValue(await gateway.metrics(), 'ringgate_redis_errors_total', 'use="rate_limit"')).toBe(5);
      // Logged once for the interval, however many calls failed.
      expect(gateway.logs.filter((line) => line.includes('redis call failed'))).toHaveLength(1);
      expect(gateway.logs.filter((line) => line.includes('redis connection error')).length).toBeLessThanOrEqual(1);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });
});
