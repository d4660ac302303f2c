import { request, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send, type Reply } from '../helpers/http.js';
import { pump } from '../helpers/pump.js';
import { jsonBodies, rawExchange, statuses } from '../helpers/raw-http.js';

let backend: Backend;
let gateway: GatewayProcess;
/** Calls the backend got, by Idempotency-Key. */
const calls = new Map<string, number>();
/** Keys whose first call the backend holds until the test releases it. */
const held = new Map<string, ServerResponse>();
const holdKeys = new Set<string>();
/** Keys the backend answers 500 the first time. */
const failFirst = new Set<string>();
/** The first call with this key gets 64 MiB, written as fast as the gateway reads it. */
const BIG_KEY = 'k-big';
const big = { waiting: false, drains: 0 };

function answerBig(res: ServerResponse): void {
  const total = 64 * 1024 * 1024;
  res.writeHead(201, { 'content-type': 'application/octet-stream', 'content-length': total });
  // Seen by the test: whether the node waits for the gateway to read on, and how often it did.
  const seen = {
    write(chunk: Buffer) {
      big.waiting = !res.write(chunk);
      return !big.waiting;
    },
    once: (_: 'drain', listener: () => void) =>
      res.once('drain', () => {
        big.waiting = false;
        big.drains++;
        listener();
      }),
  };
  void pump(seen, total).then(() => res.end());
}

beforeAll(async () => {
  backend = await startBackend('i0', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      const n = (calls.get(key) ?? 0) + 1;
      calls.set(key, n);
      if (failFirst.has(key) && n === 1) return res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}');
      // A token that ran out: the node did not do the write.
      if (key === 'k-401' && n === 1) return res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"token expired"}');
      if (key === BIG_KEY && n === 1) return answerBig(res);
      if (key === 'k-204') return res.writeHead(204, { 'x-order': `order-${key}-${n}` }).end();
      const answer = () => res.writeHead(201, { 'content-type': 'application/json', 'x-order': `order-${key}-${n}` }).end(JSON.stringify({ key, n, body: Buffer.concat(chunks).toString() }));
      if (holdKeys.has(key) && n === 1) held.set(key, Object.assign(res, { answer }) as ServerResponse);
      else answer();
    });
  });
  gateway = await startGateway(
    {
      routes: [
        { prefix: '/orders/', cluster: 'c', idempotency: 'required' },
        { prefix: '/notes/', cluster: 'c', idempotency: 'optional' },
        { prefix: '/limited-orders/', cluster: 'c', idempotency: 'required', rateLimit: { requests: 100, windowMs: 60_000 } },
        { prefix: '/timed-orders/', cluster: 'c', idempotency: 'required', retries: { perTryTimeoutMs: 300 } },
      ],
      clusters: { c: { nodes: [{ id: 'i0', url: backend.url }] } },
    },
    // Two buckets of 8: a few dozen keys are enough to make the table give up old ones.
    { GATEWAY_IDEMPOTENCY_ENTRIES: '16' },
  );
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await backend.close();
});

const post = (path: string, key: string | null, body: string, tenant = 'acme'): Promise<Reply> =>
  send(gateway.port, path, { method: 'POST', tenant, body, headers: key === null ? {} : { 'idempotency-key': key } });

describe('Idempotency-Key', () => {
  it('refuses a write without a key where it is required, and lets reads and optional routes pass', async () => {
    expectError(await post('/orders/new', null, '{}'), 'ERR_IDEMPOTENCY_KEY_MISSING');
    expectError(await post('/orders/new', 'k'.repeat(256), '{}'), 'ERR_IDEMPOTENCY_KEY_MISSING');
    // The backend answers every request 201.
    expect((await send(gateway.port, '/orders/1', { tenant: 'acme' })).status).toBe(201);
    expect((await post('/notes/new', null, '{}')).status).toBe(201);
    // Twice, the first empty or not: keyed by one value, the node would see both.
    for (const [first, second] of [['k-a', 'k-b'], ['', 'k-c']]) {
      const twice = await rawExchange(gateway.port, `POST /orders/new HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: acme\r\nIdempotency-Key: ${first}\r\nIdempotency-Key: ${second}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`, 3_000);
      expectError({ status: statuses(twice.text)[0] ?? 0, text: JSON.stringify(jsonBodies(twice.text)[0] ?? {}) }, 'ERR_IDEMPOTENCY_KEY_REPEATED');
    }
    expect(calls.has('k-a, k-b')).toBe(false);
    expect([...calls.keys()].some((key) => key.includes('k-c'))).toBe(false);
  });

  it('lets one of two concurrent duplicates through and refuses the other with 409', async () => {
    holdKeys.add('k-concurrent');
    const first = post('/orders/new', 'k-concurrent', '{"item":1}');
    await expect.poll(() => held.has('k-concurrent')).toBe(true);
    expectError(await post('/orders/new', 'k-concurrent', '{"item":1}'), 'ERR_IDEMPOTENCY_IN_FLIGHT');
    (held.get('k-concurrent') as unknown as { answer(): void }).answer();
    expect((await first).status).toBe(201);
    expect(calls.get('k-concurrent')).toBe(1);
  });

  it('replays a completed request to its duplicate without calling the node, marked as a replay', async () => {
    const first = await post('/orders/new', 'k-replay', '{"item":2}');
    const again = await post('/orders/new', 'k-replay', '{"item":2}');
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers['x-order']).toBe('order-k-replay-1');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(calls.get('k-replay')).toBe(1);
    expect(metricValue(await gateway.metrics(), 'ringgate_idempotency_replays_total')).toBeGreaterThanOrEqual(1);
  });

  it('replays a 204 as it came: no body, no Content-Length', async () => {
    const first = await post('/orders/new', 'k-204', '{}');
    const again = await post('/orders/new', 'k-204', '{}');
    expect([first.status, again.status]).toEqual([204, 204]);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['x-order']).toBe('order-k-204-1');
    expect([first.headers['content-length'], again.headers['content-length']]).toEqual([undefined, undefined]);
    expect(calls.get('k-204')).toBe(1);
  });

  it("gives a replay its own RateLimit headers, not those of the request it replays", async () => {
    const first = await post('/limited-orders/new', 'k-limited', '{"item":3}', 'limited');
    const again = await post('/limited-orders/new', 'k-limited', '{"item":3}', 'limited');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect([first.headers['ratelimit-limit'], again.headers['ratelimit-limit']]).toEqual(['100', '100']);
    expect([first.headers['ratelimit-remaining'], again.headers['ratelimit-remaining']]).toEqual(['99', '98']);
    expect(calls.get('k-limited')).toBe(1);
  });

  it('refuses a key reused with another body (422), and scopes keys by tenant', async () => {
    expect((await post('/orders/new', 'k-reuse', '{"item":3}')).status).toBe(201);
    expectError(await post('/orders/new', 'k-reuse', '{"item":4}'), 'ERR_IDEMPOTENCY_KEY_REUSED');
    expectError(await post('/orders/other', 'k-reuse', '{"item":3}'), 'ERR_IDEMPOTENCY_KEY_REUSED');
    const otherTenant = await post('/orders/new', 'k-reuse', '{"item":4}', 'globex');
    expect(otherTenant.status).toBe(201);
    expect(otherTenant.headers['idempotent-replayed']).toBeUndefined();
    expect(calls.get('k-reuse')).toBe(2);
  });

  it('keeps the answer of a write whose client left after sending it: the duplicate gets it, the node runs it once', async () => {
    holdKeys.add('k-left');
    const req = request({ host: '127.0.0.1', port: gateway.port, path: '/orders/new', method: 'POST', agent: false, headers: { 'x-tenant-id': 'acme', 'idempotency-key': 'k-left' } });
    req.on('error', () => {});
    req.end('{"item":9}');
    await expect.poll(() => held.has('k-left')).toBe(true);
    req.destroy();
    // The node finishes the write after the client left; until then a duplicate is refused.
    await expect.poll(async () => (await post('/orders/new', 'k-left', '{"item":9}')).status).toBe(409);
    (held.get('k-left') as unknown as { answer(): void }).answer();
    await expect.poll(async () => (await post('/orders/new', 'k-left', '{"item":9}')).headers['idempotent-replayed']).toBe('true');
    expect(calls.get('k-left')).toBe(1);
  });

  it('ends a keyed write whose client left while its answer pushed back: the key is free again, no node slot held', async () => {
    const client = connect(gateway.port, '127.0.0.1');
    client.on('error', () => {});
    client.write(`POST /orders/new HTTP/1.1\r\nhost: 127.0.0.1\r\nx-tenant-id: acme\r\nidempotency-key: ${BIG_KEY}\r\ncontent-length: 2\r\n\r\n{}`);
    // Never read: the gateway's socket to it fills, and it stops reading the node.
    client.pause();
    let drainsSeen = -1;
    const nodeStalled = (): boolean => {
      const stalled = big.waiting && big.drains === drainsSeen;
      drainsSeen = big.drains;
      return stalled;
    };
    await expect.poll(nodeStalled, { timeout: 10_000, interval: 100 }).toBe(true);
    client.destroy();
    // The call runs to its end (the node may have done the write); its answer is too large to keep,
    // so the key is given up and a duplicate is called again.
    await expect.poll(async () => (await post('/orders/new', BIG_KEY, '{}')).status, { timeout: 10_000 }).toBe(201);
    expect(calls.get(BIG_KEY)).toBe(2);
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_node_in_flight', 'cluster="c"')).toBe(0);
  }, 20_000);

  it('times the try of a keyed write whose client left: past perTryTimeoutMs the key is free again', async () => {
    holdKeys.add('k-timed');
    const req = request({ host: '127.0.0.1', port: gateway.port, path: '/timed-orders/new', method: 'POST', agent: false, headers: { 'x-tenant-id': 'acme', 'idempotency-key': 'k-timed' } });
    req.on('error', () => {});
    req.end('{}');
    await expect.poll(() => held.has('k-timed')).toBe(true);
    req.destroy();
    // The node never answers the first call; the pool's own timeout is 30 s away.
    await expect.poll(async () => (await post('/timed-orders/new', 'k-timed', '{}')).status, { timeout: 5_000 }).toBe(201);
    expect(calls.get('k-timed')).toBe(2);
    (held.get('k-timed') as unknown as { answer(): void }).answer();
  });

  it('does not keep a 5xx: the client may try again', async () => {
    failFirst.add('k-fail');
    expect((await post('/orders/new', 'k-fail', '{}')).status).toBe(500);
    const second = await post('/orders/new', 'k-fail', '{}');
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(calls.get('k-fail')).toBe(2);
  });

  it('does not keep a 401: a retry after a token refresh reaches the node', async () => {
    expect((await post('/orders/new', 'k-401', '{}')).status).toBe(401);
    const second = await post('/orders/new', 'k-401', '{}');
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(calls.get('k-401')).toBe(2);
  });

  it('answers 503 ERR_IDEMPOTENCY_TABLE_FULL when every entry of a bucket holds a request in flight', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `k-full-${i}`);
    for (const key of keys) holdKeys.add(key);
    const replies = keys.map((key) => post('/orders/new', key, '{}'));
    const refused: Reply[] = [];
    for (const reply of replies) void reply.then((r) => r.status === 503 && refused.push(r));
    // 16 entries in all: at least 4 of 20 find their bucket full.
    await expect.poll(() => keys.filter((key) => held.has(key)).length + refused.length === 20 && refused.length >= 4).toBe(true);
    for (const reply of refused) expectError(reply, 'ERR_IDEMPOTENCY_TABLE_FULL');
    for (const key of keys) (held.get(key) as unknown as { answer(): void } | undefined)?.answer();
    const statuses = (await Promise.all(replies)).map((r) => r.status);
    expect(statuses.filter((s) => s === 201).length + refused.length).toBe(20);
  });

  it('gives up the oldest keys once the table is full, and counts it', async () => {
    expect((await post('/orders/new', 'k-oldest', '{}')).status).toBe(201);
    for (let i = 0; i < 40; i++) expect((await post('/orders/new', `k-fill-${i}`, '{}')).status).toBe(201);
    expect(metricValue(await gateway.metrics(), 'ringgate_idempotency_evictions_total')).toBeGreaterThan(0);
    const again = await post('/orders/new', 'k-oldest', '{}');
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(calls.get('k-oldest')).toBe(2);
  });
});

describe('GATEWAY_IDEMPOTENCY_TTL_MS', () => {
  it('replays a completed write within the TTL, and lets the node run it again once the TTL has passed', async () => {
    const config = { routes: [{ prefix: '/orders/', cluster: 'c', idempotency: 'required' }], clusters: { c: { nodes: [{ id: 'i0', url: backend.url }] } } };
    const short = await startGateway(config, { GATEWAY_THREADS: '1', GATEWAY_IDEMPOTENCY_TTL_MS: '1000' });
    try {
      const again = () => send(short.port, '/orders/new', { method: 'POST', tenant: 'acme', body: '{}', headers: { 'idempotency-key': 'k-ttl' } });
      expect((await again()).status).toBe(201);
      const replay = await again();
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(calls.get('k-ttl')).toBe(1);
      // Stored for 1-2 s (the table counts whole seconds): well before 5 s, a duplicate reaches the node again.
      await expect.poll(async () => (await again(), calls.get('k-ttl')), { timeout: 5_000, interval: 250 }).toBe(2);
    } finally {
      expect(await short.stop()).toBe(0);
    }
  });
});

describe('GATEWAY_IDEMPOTENCY_MAX_RESPONSE_BYTES', () => {
  it('keeps an answer within the limit for replay; one over it is not kept, and its duplicate reaches the node again', async () => {
    const config = { routes: [{ prefix: '/orders/', cluster: 'c', idempotency: 'required' }], clusters: { c: { nodes: [{ id: 'i0', url: backend.url }] } } };
    const small = await startGateway(config, { GATEWAY_THREADS: '1', GATEWAY_IDEMPOTENCY_MAX_RESPONSE_BYTES: '1024' });
    try {
      // The node echoes the body: about 600 bytes of answer with its headers, then about 2,000 (under the default 8 KiB, over 1 KiB).
      const write = (key: string, body: string) => send(small.port, '/orders/new', { method: 'POST', tenant: 'acme', body, headers: { 'idempotency-key': key } });
      const fits = 'f'.repeat(500);
      const first = await write('k-max-fits', fits);
      const replay = await write('k-max-fits', fits);
      expect([first.status, replay.status]).toEqual([201, 201]);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.text).toBe(first.text);
      expect(calls.get('k-max-fits')).toBe(1);

      const over = 'o'.repeat(2000);
      const large = await write('k-max-over', over);
      const again = await write('k-max-over', over);
      expect([large.status, again.status]).toEqual([201, 201]);
      // Both whole, from the node: the second is its second call, not a replay.
      expect(JSON.parse(large.text)).toEqual({ key: 'k-max-over', n: 1, body: over });
      expect(JSON.parse(again.text)).toEqual({ key: 'k-max-over', n: 2, body: over });
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      expect(calls.get('k-max-over')).toBe(2);
    } finally {
      expect(await small.stop()).toBe(0);
    }
  });
});
