import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send, type Reply } from '../helpers/http.js';
import { jsonBodies, statuses } from '../helpers/raw-http.js';

const BIG = randomBytes(10 * 1024 * 1024);
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let backend: Backend;
let gateway: GatewayProcess;
/** Calls the backend got, by path. */
const calls = new Map<string, number>();
/** The node saw the gateway close its never-ending answer. */
let endlessClosed = false;
/** Answers the backend holds until a test lets them go. */
const held: (() => void)[] = [];

beforeAll(async () => {
  backend = await startBackend('m0', (req, res: ServerResponse) => {
    req.resume();
    const url = req.url ?? '';
    const n = (calls.get(url) ?? 0) + 1;
    calls.set(url, n);
    held.push(() => {
      if (url.startsWith('/m/endless') && n === 1) {
        // Its own to each client (a cookie), and never ending.
        res.on('close', () => (endlessClosed = true));
        res.writeHead(200, { 'set-cookie': 's=1', 'content-type': 'text/plain' }).write('start');
      } else if (url.startsWith('/m/big') || url.startsWith('/ml/big')) res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length }).end(BIG);
      else if (url.startsWith('/m/broken')) {
        // A tenth of what it promised, then the connection goes.
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 1000 });
        res.write('x'.repeat(100), () => res.socket?.destroy());
      } else if (url.startsWith('/m/cookie')) res.writeHead(200, { 'set-cookie': `s=${n}`, 'content-type': 'text/plain' }).end(`call ${n}`);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url, n, auth: req.headers.authorization ?? null }));
    });
  });
  // One thread: in-thread batches (another thread would make its own call).
  gateway = await startGateway(
    {
      routes: [
        { prefix: '/m/', cluster: 'c', multiplex: true },
        { prefix: '/held/', cluster: 'c', multiplex: { holdMs: 1000 } },
        { prefix: '/held-long/', cluster: 'c', multiplex: { holdMs: 4000 } },
        { prefix: '/held-longest/', cluster: 'c', multiplex: { holdMs: 10_000 } },
        { prefix: '/plain/', cluster: 'c' },
        { prefix: '/ml/', cluster: 'c', multiplex: true, rateLimit: { requests: 1000, windowMs: 60_000 } },
      ],
      clusters: { c: { nodes: [{ id: 'm0', url: backend.url }] } },
    },
    { GATEWAY_THREADS: '1' },
  );
});

afterAll(async () => {
  for (const answer of held.splice(0)) answer();
  expect(await gateway?.stop()).toBe(0);
  await backend.close();
});

const joined = async (): Promise<number> => metricValue(await gateway.metrics(), 'ringgate_multiplexed_requests_total');
const releaseAll = (): void => {
  for (const answer of held.splice(0)) answer();
};
const get = (path: string, headers: Record<string, string> = {}): Promise<Reply> => send(gateway.port, path, { tenant: 'a', headers });

describe('multiplexing', () => {
  it('answers 50 identical concurrent GETs with one call to the node, every client getting the same body', async () => {
    const before = await joined();
    const replies = Array.from({ length: 50 }, () => get('/m/same'));
    await expect.poll(joined).toBe(before + 49);
    await expect.poll(() => held.length).toBe(1);
    expect(calls.get('/m/same')).toBe(1);
    releaseAll();
    const all = await Promise.all(replies);
    expect(all.map((r) => r.status)).toEqual(all.map(() => 200));
    expect(new Set(all.map((r) => r.text)).size).toBe(1);
    const metrics = await gateway.metrics();
    expect(metricValue(metrics, 'ringgate_upstream_calls_saved_total')).toBeGreaterThanOrEqual(49);
    expect(metricValue(metrics, 'ringgate_multiplex_batch_size_bucket', 'le="64"')).toBeGreaterThanOrEqual(1);
  });

  it('gives every follower its own RateLimit headers, held whole or streamed', async () => {
    for (const [path, count] of [
      ['/ml/same', 5],
      ['/ml/big', 3],
    ] as const) {
      const before = await joined();
      const replies = Array.from({ length: count }, () => get(path));
      await expect.poll(joined).toBe(before + count - 1);
      await expect.poll(() => held.length).toBe(1);
      releaseAll();
      const all = await Promise.all(replies);
      expect(all.map((r) => r.status)).toEqual(all.map(() => 200));
      expect(new Set(all.map((r) => r.text)).size).toBe(1);
      expect(all.map((r) => r.headers['ratelimit-limit'])).toEqual(all.map(() => '1000'));
      // Each counted on its own, one after the other.
      const remaining = all.map((r) => Number(r.headers['ratelimit-remaining'])).sort((a, b) => b - a);
      expect(remaining[0]).toBeLessThan(1000);
      expect(remaining).toEqual(remaining.map((_, i) => remaining[0]! - i));
    }
  });

  it('never shares between tenants, Authorization values, methods, conditional or range requests, or on a route that did not opt in', async () => {
    const before = await joined();
    const replies = [
      send(gateway.port, '/m/who', { tenant: 'a' }),
      send(gateway.port, '/m/who', { tenant: 'b' }),
      get('/m/who', { authorization: 'Bearer one' }),
      get('/m/who', { authorization: 'Bearer two' }),
      send(gateway.port, '/m/who', { tenant: 'a', method: 'POST', body: 'x' }),
      send(gateway.port, '/m/who', { tenant: 'a', method: 'POST', body: 'x' }),
      get('/plain/who'),
      get('/plain/who'),
      get('/m/who', { 'if-none-match': '"v1"' }),
      get('/m/who', { 'if-none-match': '"v1"' }),
      get('/m/who', { range: 'bytes=0-9' }),
    ];
    await expect.poll(() => held.length).toBe(11);
    releaseAll();
    const all = await Promise.all(replies);
    expect(all.map((r) => r.status)).toEqual(all.map(() => 200));
    const auth = all.map((r) => (JSON.parse(r.text) as { auth: string | null }).auth);
    expect(auth).toEqual([null, null, 'Bearer one', 'Bearer two', null, null, null, null, null, null, null]);
    expect(await joined()).toBe(before);
  });

  it('does not share an answer that sets a cookie: the requests that joined get calls of their own', async () => {
    const before = await joined();
    const replies = Array.from({ length: 4 }, () => get('/m/cookie'));
    await expect.poll(() => held.length).toBe(1);
    await expect.poll(joined).toBe(before + 3);
    releaseAll();
    await expect.poll(() => held.length).toBe(3);
    releaseAll();
    const all = await Promise.all(replies);
    expect(all.map((r) => r.text).sort()).toEqual(['call 1', 'call 2', 'call 3', 'call 4']);
    expect(metricValue(await gateway.metrics(), 'ringgate_multiplex_fallbacks_total', 'reason="not_shareable"')).toBe(3);
  });

  it("keeps the call going for the followers when the leader's client leaves", async () => {
    const leader = request({ host: '127.0.0.1', port: gateway.port, path: '/m/leader-left', headers: { 'x-tenant-id': 'a' }, agent: false });
    leader.on('error', () => {});
    leader.end();
    await expect.poll(() => held.length).toBe(1);
    const before = await joined();
    const followers = Array.from({ length: 3 }, () => get('/m/leader-left'));
    await expect.poll(joined).toBe(before + 3);
    const left = async () => metricValue(await gateway.metrics(), 'ringgate_http_requests_total', 'route="prefix:/m/"', 'status_class="4xx"');
    const leftBefore = await left();
    leader.destroy();
    // One thread: a round trip after the close means the gateway has seen it.
    expect((await send(gateway.port, '/_ringgate/healthz')).status).toBe(200);
    releaseAll();
    const all = await Promise.all(followers);
    expect(all.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(calls.get('/m/leader-left')).toBe(1);
    // The leader is counted as a client that left (499), once the call it led ended.
    await expect.poll(left).toBe(leftBefore + 1);
  });

  it('stops the call of a leader that left once no one is left for it: an answer its followers could not share', async () => {
    const leader = request({ host: '127.0.0.1', port: gateway.port, path: '/m/endless', headers: { 'x-tenant-id': 'a' }, agent: false });
    leader.on('error', () => {});
    leader.end();
    await expect.poll(() => held.length).toBe(1);
    const before = await joined();
    const followers = Array.from({ length: 2 }, () => get('/m/endless'));
    await expect.poll(joined).toBe(before + 2);
    leader.destroy();
    // One thread: a round trip after the close means the gateway has seen it.
    expect((await send(gateway.port, '/_ringgate/healthz')).status).toBe(200);
    // Its answer sets a cookie: the followers make calls of their own, and the first has no one left.
    releaseAll();
    await expect.poll(() => held.length).toBe(2);
    releaseAll();
    expect((await Promise.all(followers)).map((r) => r.status)).toEqual([200, 200]);
    await expect.poll(() => endlessClosed).toBe(true);
  });

  it('holds a leader for holdMs, so that a read arriving in that time joins its call', async () => {
    const before = await joined();
    const first = get('/held/x');
    const second = get('/held/x');
    // Whichever arrived first waits out its hold: the other joins before any call is made.
    await expect.poll(joined).toBe(before + 1);
    expect(calls.get('/held/x')).toBeUndefined();
    await expect.poll(() => held.length).toBe(1);
    releaseAll();
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.text).toBe(b.text);
    expect(calls.get('/held/x')).toBe(1);
  });

  it('holds no read that can never be shared: a conditional or range read goes to the node at once', async () => {
    const replies = [get('/held-longest/x', { 'if-none-match': '"v1"' }), get('/held-longest/x', { range: 'bytes=0-9' })];
    // Well before the 10 s hold a leader would wait out.
    await expect.poll(() => calls.get('/held-longest/x'), { timeout: 5_000 }).toBe(2);
    releaseAll();
    expect((await Promise.all(replies)).map((r) => r.status)).toEqual([200, 200]);
  });

  it("sends the followers on their own when the leader's head cannot be written (ERR_BAD_HEADER is the leader's alone)", async () => {
    const before = await joined();
    // A byte that is not UTF-8 (uWS makes it U+FFFD): this request can never be written to the node.
    // The same Host as the other, and written whole before the other connects, so that it is read
    // first and leads the call (held 4 s).
    const leader = connect(gateway.port, '127.0.0.1');
    let answer = '';
    leader.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const closed = once(leader, 'close');
    await once(leader, 'connect');
    await new Promise((resolve) => leader.write(Buffer.from(`GET /held-long/x HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nX-Tenant-ID: a\r\nConnection: close\r\nX-Note: caf\xe9 ok\r\n\r\n`, 'latin1'), resolve));
    const follower = get('/held-long/x');
    await expect.poll(joined).toBe(before + 1);
    // The leader's hold ends, its head cannot be written: the follower calls the node on its own.
    await expect.poll(() => held.length, { timeout: 10_000 }).toBe(1);
    releaseAll();
    await closed;
    expectError({ status: statuses(answer)[0] ?? 0, text: JSON.stringify(jsonBodies(answer)[0] ?? {}) }, 'ERR_BAD_HEADER');
    expect((await follower).status).toBe(200);
    expect(calls.get('/held-long/x')).toBe(1);
    expect(metricValue(await gateway.metrics(), 'ringgate_multiplex_fallbacks_total', 'reason="leader_refused"')).toBe(1);
  });

  it("answers the followers an error when the call breaks before their held answer went out; the leader's is cut off", async () => {
    const before = await joined();
    const replies = Array.from({ length: 3 }, () => get('/m/broken'));
    await expect.poll(joined).toBe(before + 2);
    await expect.poll(() => held.length).toBe(1);
    releaseAll();
    const all = await Promise.allSettled(replies);
    // The leader had the head and a part of the body: a close is the only honest end.
    expect(all.filter((r) => r.status === 'rejected')).toHaveLength(1);
    const answered = all.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(answered).toHaveLength(2);
    for (const reply of answered) expectError(reply, 'ERR_UPSTREAM_CONNECT');
    expect(calls.get('/m/broken')).toBe(1);
  });

  it('streams a 10 MiB answer whole to every follower', async () => {
    const before = await joined();
    const replies = Array.from({ length: 5 }, () => get('/m/big'));
    await expect.poll(joined).toBe(before + 4);
    await expect.poll(() => held.length).toBe(1);
    releaseAll();
    const all = await Promise.all(replies);
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    for (const reply of all) expect(sha(reply.body)).toBe(sha(BIG));
    expect(calls.get('/m/big')).toBe(1);
  });
});
