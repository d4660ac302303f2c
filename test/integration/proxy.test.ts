import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadOrigin, startBackend, type Backend, type Handler } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, pooled, send } from '../helpers/http.js';
import { answers, jsonBodies, rawExchange, statuses } from '../helpers/raw-http.js';

const FIVE_MIB = 5 * 1024 * 1024;
const DOWNLOAD = randomBytes(FIVE_MIB);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Every main backend: downloads, hashed uploads, an endless stream, header echo, else its id. */
const mainBackend: Handler = (req, res, id) => {
  const url = req.url ?? '';
  if (url.startsWith('/t/download')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': DOWNLOAD.length }).end(DOWNLOAD);
  } else if (url.startsWith('/t/upload')) {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id, sha256: hash.digest('hex'), bytes })));
  } else if (url.startsWith('/t/endless')) {
    // Chunked and never ending: only a client abort ends it.
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const timer = setInterval(() => res.write(chunk), 5);
    res.on('close', () => {
      clearInterval(timer);
      aborts.push(id);
    });
  } else if (url.startsWith('/t/headers')) {
    req.resume();
    const echoed = JSON.stringify(req.headers);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(echoed),
      // Two field lines: each names a header to drop.
      connection: ['x-private', 'x-other'],
      'x-private': 'hop',
      'x-other': 'hop too',
      'keep-alive': 'timeout=5',
      'proxy-authenticate': 'Basic',
      'x-kept': 'yes',
    });
    res.end(echoed);
  } else if (url.startsWith('/t/raw-head')) {
    req.resume();
    // Node sends "caf\u00e9" in UTF-8: bytes 0xc3 0xa9, not ASCII.
    res.writeHead(200, ['X-First', 'one', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Content-Length', '2', 'X-Utf8', 'caf\u00e9', 'x-last', 'z']);
    res.end('ok');
  } else {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id })));
  }
};
const aborts: string[] = [];

let backends: Backend[];
let slow: Backend;
let gateway: GatewayProcess;

beforeAll(async () => {
  backends = await Promise.all(['b1', 'b2', 'b3'].map((id) => startBackend(id, mainBackend)));
  slow = await startBackend('slow', (req, res) => {
    req.resume();
    // 2.4 times GATEWAY_UPSTREAM_TIMEOUT_MS: a gateway that waits that long answers 200, not 504.
    setTimeout(() => res.writeHead(200).end('late'), 1_200).unref();
  });
  gateway = await startGateway(
    {
      routes: [
        { prefix: '/t/', cluster: 'main' },
        { exact: '/public', cluster: 'main', requireTenant: false },
        { prefix: '/dead/', cluster: 'dead' },
        { prefix: '/empty/', cluster: 'empty' },
        { prefix: '/slow/', cluster: 'slow' },
        { prefix: '/by-path/', cluster: 'main', hashOn: 'path' },
        { prefix: '/by-session/', cluster: 'main', hashOn: { header: 'x-session-id' } },
      ],
      clusters: {
        main: { nodes: backends.map((b, i) => ({ id: b.id, url: b.url, az: `az-${i}` })) },
        dead: { nodes: [{ id: 'dead', url: await deadOrigin() }] },
        empty: { nodes: [] },
        slow: { nodes: [{ id: 'slow', url: slow.url }] },
      },
    },
    { GATEWAY_UPSTREAM_TIMEOUT_MS: '500', GATEWAY_MAX_BODY_BYTES: String(8 * 1024 * 1024), GATEWAY_MAX_HEADER_BYTES: '4096' },
  );
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await Promise.all([...(backends ?? []), slow].filter(Boolean).map((b) => b.close()));
});

describe('proxying with 2 acceptor threads and 3 backends', () => {
  it('keeps every tenant on one backend over 500 requests, and both threads serve', async () => {
    // One at a time: no node is ever over its load bound, so nothing walks on (concurrent load
    // that does is test/integration/adaptive-routing.test.ts's).
    const tenants = Array.from({ length: 50 }, (_, i) => `tenant-${i}`);
    const replies = await pooled(
      1,
      Array.from({ length: 500 }, (_, i) => () => send(gateway.port, `/t/item/${i}`, { tenant: tenants[i % 50]! })),
    );
    const backendOf = new Map<string, Set<string>>();
    replies.forEach((reply, i) => {
      expect(reply.status).toBe(200);
      const tenant = tenants[i % 50]!;
      if (!backendOf.has(tenant)) backendOf.set(tenant, new Set());
      backendOf.get(tenant)!.add((JSON.parse(reply.text) as { backend: string }).backend);
    });
    for (const set of backendOf.values()) expect(set.size).toBe(1);
    const used = new Set([...backendOf.values()].flatMap((s) => [...s]));
    expect(used.size).toBe(3);

    const metrics = await gateway.metrics();
    expect(metricValue(metrics, 'ringgate_thread_requests_total', 'thread="0"')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'ringgate_thread_requests_total', 'thread="1"')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'ringgate_http_requests_total', 'route="prefix:/t/"', 'status_class="2xx"')).toBeGreaterThanOrEqual(500);
    expect(metricValue(metrics, 'ringgate_threads_running')).toBe(2);
  });

  it('exports Node.js runtime metrics: the process once, each thread\'s heap and event loop by thread', async () => {
    const metrics = await gateway.metrics();
    const lines = (name: string): string[] => metrics.split('\n').filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));
    // Process-wide: one series, not one per thread summed.
    expect(lines('process_resident_memory_bytes')).toHaveLength(1);
    expect(metricValue(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(20 * 2 ** 20);
    expect(lines('nodejs_version_info')).toHaveLength(1);
    // prom-client would omit it when aggregating: the process's start time is exported all the same.
    expect(metricValue(metrics, 'process_start_time_seconds')).toBeGreaterThan(Date.now() / 1000 - 3600);
    for (const thread of ['0', '1']) {
      expect(metricValue(metrics, 'nodejs_heap_size_used_bytes', `thread="${thread}"`)).toBeGreaterThan(0);
      expect(lines('nodejs_eventloop_lag_p99_seconds').some((line) => line.includes(`thread="${thread}"`))).toBe(true);
    }
  });

  it('keys a route by its hashOn, the path or a header, whatever the tenant', async () => {
    // One at a time, as above: no node is over its load bound, so each key stays on its ring owner.
    const backendsOf = async (count: number, request: (i: number) => [path: string, tenant: string, headers: Record<string, string>]): Promise<Set<string>> => {
      const replies = await pooled(1, Array.from({ length: count }, (_, i) => () => {
        const [path, tenant, headers] = request(i);
        return send(gateway.port, path, { tenant, headers });
      }));
      for (const reply of replies) expect(reply.status).toBe(200);
      return new Set(replies.map((reply) => (JSON.parse(reply.text) as { backend: string }).backend));
    };
    // One key, 30 tenants: one node. 30 keys, one tenant: more than one.
    expect((await backendsOf(30, (i) => ['/by-path/item-1', `tenant-${i}`, {}])).size).toBe(1);
    expect((await backendsOf(30, (i) => [`/by-path/item-${i}`, 'acme', {}])).size).toBeGreaterThan(1);
    expect((await backendsOf(30, (i) => ['/by-session/x', `tenant-${i}`, { 'x-session-id': 'session-1' }])).size).toBe(1);
    expect((await backendsOf(30, (i) => ['/by-session/x', 'acme', { 'x-session-id': `session-${i}` }])).size).toBeGreaterThan(1);
  });

  it('streams a 5 MiB upload and a 5 MiB download intact', async () => {
    const upload = randomBytes(FIVE_MIB);
    const up = await send(gateway.port, '/t/upload', { method: 'POST', tenant: 'acme', body: upload });
    expect(up.status).toBe(200);
    expect(JSON.parse(up.text)).toMatchObject({ sha256: sha256(upload), bytes: FIVE_MIB });

    const down = await send(gateway.port, '/t/download', { tenant: 'acme' });
    expect(down.status).toBe(200);
    expect(down.headers['content-length']).toBe(String(FIVE_MIB));
    expect(sha256(down.body)).toBe(sha256(DOWNLOAD));
  });

  it('forwards a small declared body whole, even when it arrives in pieces', async () => {
    const body = randomBytes(40 * 1024); // under GATEWAY_BUFFER_BODY_BYTES (64 KiB): read whole, then sent
    const socket = connect(gateway.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.write(`POST /t/upload-pieces HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: acme\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, 1000));
    await new Promise((r) => setTimeout(r, 100));
    socket.write(body.subarray(1000, 30_000));
    await new Promise((r) => setTimeout(r, 100));
    socket.write(body.subarray(30_000));
    await expect.poll(() => text.includes('sha256')).toBe(true);
    socket.destroy();
    expect(text.startsWith('HTTP/1.1 200')).toBe(true);
    expect(jsonBodies(text)[0]).toMatchObject({ sha256: sha256(body), bytes: body.length });
    const seen = backends.flatMap((b) => b.seen).filter((r) => r.url === '/t/upload-pieces');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['content-length']).toBe(String(body.length));
  });

  it('relays an upload sent with Expect: 100-continue, as curl does for bodies over 1 MiB', async () => {
    const body = randomBytes(2 * 1024 * 1024);
    const socket = connect(gateway.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.write(`POST /t/upload-expect HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: acme\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    await expect.poll(() => text).toContain('HTTP/1.1 100 Continue');
    socket.write(body);
    await expect.poll(() => text.includes('sha256'), { timeout: 10_000 }).toBe(true);
    socket.destroy();
    expect(statuses(text)).toEqual([100, 200]);
    expect(jsonBodies(text)[0]).toMatchObject({ sha256: sha256(body), bytes: body.length });
    const seen = backends.flatMap((b) => b.seen).filter((r) => r.url === '/t/upload-expect');
    expect(seen[0]!.headers.expect).toBeUndefined();
  });

  it('sends nothing upstream for a small body the client abandons, and keeps serving', async () => {
    const metricsBefore = await gateway.metrics();
    const socket = connect(gateway.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write('POST /t/upload-abandoned HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: acme\r\nContent-Length: 60000\r\n\r\n');
    socket.write(Buffer.alloc(1000, 1));
    // The head was admitted and given a node (which counts it while the body is read): abandon now.
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_node_in_flight')).toBe(1);
    socket.destroy();
    await expect
      .poll(async () => metricValue(await gateway.metrics(), 'ringgate_http_requests_total', 'route="prefix:/t/"', 'status_class="4xx"'))
      .toBe(metricValue(metricsBefore, 'ringgate_http_requests_total', 'route="prefix:/t/"', 'status_class="4xx"') + 1);
    expect(backends.flatMap((b) => b.seen).filter((r) => r.url === '/t/upload-abandoned')).toHaveLength(0);
    expect((await send(gateway.port, '/t/after-abandon', { tenant: 'acme' })).status).toBe(200);
  });

  it('streams a chunked upload of unknown length', async () => {
    const body = randomBytes(1024 * 1024);
    const reply = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gateway.port, path: '/t/upload', method: 'POST', headers: { 'x-tenant-id': 'acme' }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      for (let i = 0; i < body.length; i += 100_000) req.write(body.subarray(i, i + 100_000));
      req.end();
    });
    expect(JSON.parse(reply)).toMatchObject({ sha256: sha256(body), bytes: body.length });
  });

  it('aborts the upstream request when the client aborts mid-download, and keeps serving', async () => {
    const before = aborts.length;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gateway.port, path: '/t/endless', headers: { 'x-tenant-id': 'acme' }, agent: false }, (res) => {
        let received = 0;
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (received > 512 * 1024) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
    await expect.poll(() => aborts.length, { timeout: 5_000 }).toBeGreaterThan(before);
    expect((await send(gateway.port, '/t/after-abort', { tenant: 'acme' })).status).toBe(200);
  });

  it('answers 502 ERR_UPSTREAM_CONNECT for a dead backend', async () => {
    expectError(await send(gateway.port, '/dead/x', { tenant: 'acme' }), 'ERR_UPSTREAM_CONNECT');
  });

  it('answers 503 ERR_RING_EMPTY for a cluster without nodes', async () => {
    expectError(await send(gateway.port, '/empty/x', { tenant: 'acme' }), 'ERR_RING_EMPTY');
  });

  it('answers 504 ERR_UPSTREAM_TIMEOUT when the backend is slower than the timeout, without waiting for its late answer', async () => {
    expectError(await send(gateway.port, '/slow/x', { tenant: 'acme' }), 'ERR_UPSTREAM_TIMEOUT');
  });

  it('answers 404 ERR_NO_ROUTE when no route matches', async () => {
    expectError(await send(gateway.port, '/nowhere', { tenant: 'acme' }), 'ERR_NO_ROUTE');
    // The gateway's own answers carry no uWS mark either.
    const { text } = await rawExchange(gateway.port, 'GET /nowhere HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: acme\r\n\r\n', 5_000, answers(1));
    expect(text.startsWith('HTTP/1.1 404 ')).toBe(true);
    expect(text.toLowerCase()).not.toContain('uwebsockets');
  });

  it('checks the tenant id: missing, bad charset, too long, repeated; routes may not need one', async () => {
    expectError(await send(gateway.port, '/t/x'), 'ERR_MISSING_TENANT');
    expectError(await send(gateway.port, '/t/x', { tenant: 'bad tenant' }), 'ERR_INVALID_TENANT');
    expectError(await send(gateway.port, '/t/x', { tenant: 'x'.repeat(129) }), 'ERR_INVALID_TENANT');
    expect((await send(gateway.port, '/t/x', { tenant: 'x'.repeat(128) })).status).toBe(200);
    const repeated = await rawExchange(gateway.port, 'GET /t/x HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: a\r\nX-Tenant-ID: b\r\n\r\n', 5_000, answers(1));
    expectError({ status: Number(repeated.text.slice(9, 12)), text: repeated.text.slice(repeated.text.indexOf('{')) }, 'ERR_INVALID_TENANT');
    expect((await send(gateway.port, '/public')).status).toBe(200);
  });

  it('drops hop-by-hop headers both ways and sets X-Forwarded-*', async () => {
    const head =
      'GET /t/headers?q=1 HTTP/1.1\r\nHost: shop.example\r\nX-Tenant-ID: acme\r\nConnection: x-secret, idempotency-key\r\nConnection: keep-alive, host\r\n' +
      'X-Secret: s\r\nIdempotency-Key: k-hop\r\nKeep-Alive: timeout=1\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Authorization: Basic x\r\n' +
      'X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n';
    const { text } = await rawExchange(gateway.port, head, 5_000, answers(1));
    const [responseHead, body] = text.split('\r\n\r\n') as [string, string];
    const seen = JSON.parse(body) as Record<string, string>;
    for (const dropped of ['x-secret', 'keep-alive', 'te', 'upgrade', 'proxy-authorization']) expect(seen[dropped]).toBeUndefined();
    // No trusted proxy here: what the client claims of earlier hops is replaced (forwarded.test.ts has the rest).
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('shop.example');
    // Named in Connection or not, Host goes on: an HTTP/1.1 request without one is invalid.
    expect(seen.host).toBe('shop.example');
    // So does the Idempotency-Key the gateway acts on (a retried write is safe only if the node sees it).
    expect(seen['idempotency-key']).toBe('k-hop');
    expect(seen.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const responseHeaders = responseHead.toLowerCase();
    expect(responseHeaders).toContain('x-kept: yes');
    for (const dropped of ['x-private', 'x-other', 'keep-alive', 'proxy-authenticate', 'connection: x-']) expect(responseHeaders).not.toContain(dropped);
  });

  it("forwards the node's response head as it came: order, repeated names, case and raw bytes", async () => {
    const { text, closedByPeer } = await rawExchange(
      gateway.port,
      'GET /t/raw-head HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: acme\r\nX-Request-Id: raw-1\r\nConnection: close\r\n\r\n',
      5_000,
    );
    expect(closedByPeer).toBe(true);
    const [head, body] = text.split('\r\n\r\n') as [string, string];
    const lines = head.split('\r\n');
    expect(lines.slice(0, 7)).toEqual(['HTTP/1.1 200 OK', 'x-request-id: raw-1', 'X-First: one', 'Set-Cookie: a=1', 'set-cookie: b=2', 'X-Utf8: caf\u00c3\u00a9', 'x-last: z']);
    // What uWS adds itself follows: its Date and the length (not its `uWebSockets: 20` mark); Node's Date, Connection and Keep-Alive are dropped.
    expect(lines.slice(7).map((line) => line.split(':')[0]!.toLowerCase()).sort()).toEqual(['content-length', 'date']);
    expect(body).toBe('ok');
  });

  it('answers 431 ERR_HEADERS_TOO_LARGE over GATEWAY_MAX_HEADER_BYTES', async () => {
    expectError(await send(gateway.port, '/t/x', { tenant: 'acme', headers: { 'x-big': 'a'.repeat(5_000) } }), 'ERR_HEADERS_TOO_LARGE');
    expect((await send(gateway.port, '/t/x', { tenant: 'acme', headers: { 'x-big': 'a'.repeat(3_000) } })).status).toBe(200);
    // Counted in bytes: 1,400 euro signs are 4,200 bytes of UTF-8, though 1,400 characters (ASCII
    // around them: uWS drops a value's trailing bytes past ASCII, test/uws-limits).
    const wide = await rawExchange(gateway.port, Buffer.from(`GET /t/x HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: acme\r\nX-Big: <${'\u20ac'.repeat(1_400)}>\r\n\r\n`), 3_000);
    expect(wide.text.slice(0, 12)).toBe('HTTP/1.1 431');
  });

  it('answers 413 ERR_BODY_TOO_LARGE for a declared or a streamed body over GATEWAY_MAX_BODY_BYTES', async () => {
    const declared = await rawExchange(gateway.port, 'POST /t/upload HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: acme\r\nContent-Length: 9437184\r\n\r\n', 1_000);
    expect(declared.closedByPeer).toBe(true);
    expectError({ status: Number(declared.text.slice(9, 12)), text: declared.text.slice(declared.text.indexOf('{')) }, 'ERR_BODY_TOO_LARGE');

    // Raw socket: the gateway answers and closes while we are still sending, which a Node HTTP
    // client reports as EPIPE instead of the answer.
    const streamed = await new Promise<{ status: number; text: string }>((resolve) => {
      const socket = connect(gateway.port, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve({ status: Number(text.slice(9, 12)), text: text.slice(text.indexOf('{')) }));
      socket.write('POST /t/upload HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: acme\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = Buffer.concat([Buffer.from('40000\r\n'), Buffer.alloc(0x40000), Buffer.from('\r\n')]);
      let sent = 0;
      const pump = (): void => {
        while (sent < 36 && !socket.destroyed) {
          sent++;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        if (!socket.destroyed) socket.write('0\r\n\r\n');
      };
      pump();
      setTimeout(() => socket.destroy(), 5_000).unref();
    });
    expectError(streamed, 'ERR_BODY_TOO_LARGE');
    expect((await send(gateway.port, '/t/x', { tenant: 'acme' })).status).toBe(200);
  });

  it('answers its health path', async () => {
    const reply = await send(gateway.port, '/_ringgate/healthz');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ status: 'ok' });
  });

  it('counts gateway errors by code in the metrics', async () => {
    const metrics = await gateway.metrics();
    expect(metricValue(metrics, 'ringgate_http_errors_total', 'code="ERR_RING_EMPTY"')).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'ringgate_ring_points', 'cluster="main"')).toBe(450);
  });
});
