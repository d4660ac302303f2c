import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send, type Reply } from '../helpers/http.js';
import { heldScripts, scriptCalls, startRedis, type RedisServer } from '../helpers/redis-server.js';

let redisServer: RedisServer;
let redis: Redis;
let backend: Backend;
let a: GatewayProcess;
let b: GatewayProcess;
/** Calls the backend got, by Idempotency-Key. */
const calls = new Map<string, number>();
/** The backend answers after this many ms: duplicates arrive while the first is in flight. */
const SLOW_MS = 300;
/** First calls of 'held-' keys, answered once the test says so, by key. */
const held = new Map<string, () => void>();

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  // The outage test kills the server under this connection too.
  redis.on('error', () => {});
  backend = await startBackend('i0', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      const answer = (): void => {
        res.writeHead(201, { 'content-type': 'application/octet-stream', 'x-order': `order-${key}-${n}` }).end(Buffer.concat([Buffer.from([0, 255, 1]), ...chunks]));
      };
      if (key.startsWith('slow-')) setTimeout(answer, SLOW_MS);
      else if (key.startsWith('held-') && n === 1) held.set(key, answer);
      else answer();
    });
  });
  const config = { routes: [{ prefix: '/orders/', cluster: 'c', idempotency: 'required' }], clusters: { c: { nodes: [{ id: 'i0', url: backend.url }] } } };
  const env = { GATEWAY_SHARED_STATE: 'redis', GATEWAY_REDIS_URL: redisServer.url, GATEWAY_REDIS_TIMEOUT_MS: '200', GATEWAY_THREADS: '1' };
  [a, b] = await Promise.all([startGateway(config, env), startGateway(config, env)]);
}, 60_000);

afterAll(async () => {
  for (const gateway of [a, b]) if (gateway !== undefined) expect(await gateway.stop()).toBe(0);
  redis?.disconnect();
  await backend?.close();
  await redisServer?.kill();
});

const post = (gateway: GatewayProcess, key: string, body: string, tenant = 'acme'): Promise<Reply> =>
  send(gateway.port, '/orders/new', { method: 'POST', tenant, body, headers: { 'idempotency-key': key } });

describe('Idempotency-Key across 2 instances (GATEWAY_SHARED_STATE=redis)', () => {
  it('lets exactly one of concurrent duplicates on both instances reach the node; the rest get 409', async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => post(i % 2 === 0 ? a : b, 'slow-1', '{"item":1}')));
    expect(calls.get('slow-1')).toBe(1);
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    for (const reply of replies.filter((r) => r.status !== 201)) expectError(reply, 'ERR_IDEMPOTENCY_IN_FLIGHT');
  });

  it('replays the stored answer (bytes, status and headers) on the other instance', async () => {
    const first = await post(a, 'k-replay', 'payload');
    expect(first.status).toBe(201);
    // The first instance's completion reaches Redis a round trip after its answer: until then the
    // key is still in flight (409, retryable).
    let again = await post(b, 'k-replay', 'payload');
    const deadline = Date.now() + 5000;
    while (again.status === 409 && Date.now() < deadline) {
      expectError(again, 'ERR_IDEMPOTENCY_IN_FLIGHT');
      again = await post(b, 'k-replay', 'payload');
    }
    expect(again.status).toBe(201);
    expect(again.body.equals(first.body)).toBe(true);
    expect(again.headers['x-order']).toBe('order-k-replay-1');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(calls.get('k-replay')).toBe(1);
  });

  it('refuses the key reused for another body on the other instance with 422, and keeps tenants apart', async () => {
    expect((await post(a, 'k-reuse', 'one')).status).toBe(201);
    expectError(await post(b, 'k-reuse', 'two'), 'ERR_IDEMPOTENCY_KEY_REUSED');
    expect((await post(b, 'k-reuse', 'two', 'other-tenant')).status).toBe(201);
    expect(calls.get('k-reuse')).toBe(2);
  });

  it('names its connections in CLIENT LIST: each acceptor thread and the shared tenant load', async () => {
    const names = String(await redis.client('LIST'))
      .split('\n')
      .map((line) => / name=(\S*) /.exec(line)?.[1])
      .filter((name) => name?.startsWith('ringgate-'));
    // Two instances of one thread each.
    expect(names.sort()).toEqual(['ringgate-acceptor-0', 'ringgate-acceptor-0', 'ringgate-fleet-load', 'ringgate-fleet-load']);
  });

  it('lets go of a claim that timed out but landed late, and its write\'s answer reaches the fleet after it', async () => {
    const before = await scriptCalls(redis);
    // Redis answers nobody for 600 ms: the claim times out (200 ms) and the write runs on the instance's own table.
    await redis.client('PAUSE', 600, 'ALL');
    expect((await post(a, 'k-late', 'z')).status).toBe(201);
    // Once Redis runs again: the late claim, the release sent after it, then the write's end.
    await expect.poll(async () => (await scriptCalls(redis)) - before, { timeout: 5_000, interval: 100 }).toBeGreaterThanOrEqual(3);
    const inFlight = async (): Promise<number> => {
      const keys = await redis.keys('ringgate:idem:*');
      const values = keys.length === 0 ? [] : await redis.mgetBuffer(...keys);
      return values.filter((v) => v !== null && v[0] === 'I'.charCodeAt(0)).length;
    };
    expect(await inFlight()).toBe(0);
    // The instance that ran it replays it, though Redis never held its claim.
    expect((await post(a, 'k-late', 'z')).headers['idempotent-replayed']).toBe('true');
    // Its answer reached Redis after the release, as the key stood empty: the other instance replays it too.
    expect((await post(b, 'k-late', 'z')).headers['idempotent-replayed']).toBe('true');
    expect(calls.get('k-late')).toBe(1);
  });

  it('lets go of the key of a client that left while Redis was deciding its claim', async () => {
    const left = async (): Promise<number> => metricValue(await a.metrics(), 'ringgate_http_requests_total', 'route="prefix:/orders/"', 'status_class="4xx"');
    const leftBefore = await left();
    // Scripts wait on Redis for 150 ms (under the 200 ms timeout): the client leaves once the claim
    // has reached Redis, and the claim lands after.
    await redis.client('PAUSE', 150, 'WRITE');
    const socket = connect(a.port, '127.0.0.1');
    socket.on('error', () => {});
    const body = 'left';
    socket.write(`POST /orders/new HTTP/1.1\r\nHost: x\r\nX-Tenant-Id: acme\r\nIdempotency-Key: k-left\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await expect.poll(() => heldScripts(redis, 'ringgate-acceptor-0'), { timeout: 5_000, interval: 5 }).toBe(1);
    socket.destroy();
    // The pause is over once Redis holds no script of the instances' threads.
    await expect.poll(() => heldScripts(redis, 'ringgate-acceptor-0'), { timeout: 5_000, interval: 5 }).toBe(0);
    // Claimed for nobody, then let go: the same write on the other instance runs (not 409 for a minute).
    await expect.poll(async () => (await post(b, 'k-left', body)).status, { timeout: 5_000, interval: 100 }).toBe(201);
    expect(calls.get('k-left')).toBe(1);
    // Instance a read the request and ended it as the client's leaving (499), before any answer:
    // the race this test is about happened (a client gone before its head was read would count nothing).
    expect(await left()).toBe(leftBefore + 1);
  });

  it('stores the answer of a write that finishes as its instance drains: the other instance replays it', async () => {
    const config = { routes: [{ prefix: '/orders/', cluster: 'c', idempotency: 'required' }], clusters: { c: { nodes: [{ id: 'i0', url: backend.url }] } } };
    const draining = await startGateway(config, { GATEWAY_SHARED_STATE: 'redis', GATEWAY_REDIS_URL: redisServer.url, GATEWAY_REDIS_TIMEOUT_MS: '200', GATEWAY_THREADS: '1' });
    const write = post(draining, 'slow-drained', 'last');
    await expect.poll(() => calls.get('slow-drained')).toBe(1);
    // The write is the last open request of the thread: its key's completion is the thread's last call to Redis.
    const exited = draining.stop();
    expect((await write).status).toBe(201);
    expect(await exited).toBe(0);
    // The completion went out before the instance exited, but a Redis as busy as the whole suite
    // makes it may take it in a moment later: meanwhile the key is in flight (409), never run again.
    await expect.poll(async () => (await post(a, 'slow-drained', 'last')).headers['idempotent-replayed'], { timeout: 5_000 }).toBe('true');
    expect(calls.get('slow-drained')).toBe(1);
  });

  it('refuses a duplicate on the same instance while Redis is down, of a write claimed in Redis before, then replays it', async () => {
    const first = post(a, 'held-outage', 'w');
    await expect.poll(() => held.has('held-outage'), { timeout: 5_000 }).toBe(true);
    await redisServer.kill();
    try {
      const duplicate = await post(a, 'held-outage', 'w');
      expect(calls.get('held-outage')).toBe(1);
      expectError(duplicate, 'ERR_IDEMPOTENCY_IN_FLIGHT');
      held.get('held-outage')!();
      expect((await first).status).toBe(201);
      const again = await post(a, 'held-outage', 'w');
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers['x-order']).toBe('order-held-outage-1');
      expect(calls.get('held-outage')).toBe(1);
    } finally {
      await redisServer.restart();
    }
  });

  it('falls back to each instance\'s own table while Redis is down, and shares keys again once it is back', async () => {
    await redisServer.kill();
    const down = await post(a, 'k-down', 'x');
    expect(down.status).toBe(201);
    // Within one instance its own table still guards the key.
    expect((await post(a, 'k-down', 'x')).headers['idempotent-replayed']).toBe('true');
    expect(metricValue(await a.metrics(), 'ringgate_redis_errors_total', 'use="idempotency"')).toBeGreaterThanOrEqual(2);
    await redisServer.restart();
    // Back: shared again once the connections are (a fresh key, seen by both through Redis).
    await expect
      .poll(
        async () => {
          const key = `k-back-${Date.now()}`;
          await post(a, key, 'y');
          return (await post(b, key, 'y')).headers['idempotent-replayed'];
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe('true');
  }, 30_000);
});
