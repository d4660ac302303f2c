import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, startRawBackend, type Backend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { jsonBodies, rawExchange, statuses } from '../helpers/raw-http.js';

/** Large enough to cross several socket reads and uWS backpressure on its way through. */
const BIG = Buffer.alloc(256 * 1024, 'r');

let backend: Backend;
/** Reads no upload and never answers. */
let stalled: Backend;
/** Upload bytes the backend has read, by path. */
const uploaded = new Map<string, number>();
/** The gateways' GATEWAY_UPSTREAM_TIMEOUT_MS. */
const TIMEOUT_MS = 600;
/** Answers each request with Connection: close and keeps its head's bytes (latin1: a character a byte). */
let raw: { url: string; close(): Promise<void> };
/** Resets each request once its head has come. */
let resetting: { url: string; close(): Promise<void> };
const rawHeads: string[] = [];
/** Answers with the status its path ends with (`/odd/700`). */
let odd: { url: string; close(): Promise<void> };
const gateways = new Map<string, GatewayProcess>();

beforeAll(async () => {
  backend = await startBackend('h0', (req, res) => {
    req.on('data', (chunk: Buffer) => uploaded.set(req.url!, (uploaded.get(req.url!) ?? 0) + chunk.length));
    req.on('end', () => {
      if (req.url === '/big') res.writeHead(200, { 'content-length': BIG.length }).end(BIG);
      // No length: node:http answers chunked.
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.headers['content-length'] ?? '-'}`);
    });
  });
  stalled = await startBackend('s0', (req) => req.pause());
  resetting = await startRawBackend((socket) => socket.destroy());
  odd = await startRawBackend((socket, head) => {
    const status = /^\S+ \/odd\/(\d+)/.exec(head)?.[1] ?? '200';
    socket.end(`HTTP/1.1 ${status} Odd\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`);
  });
  raw = await startRawBackend((socket, head) => {
    rawHeads.push(head);
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  });
  const config = {
    routes: [
      { prefix: '/raw/', cluster: 'r' },
      { prefix: '/odd/', cluster: 'o' },
      { prefix: '/stalled/', cluster: 's' },
      { prefix: '/per-try/', cluster: 'c', retries: { perTryTimeoutMs: TIMEOUT_MS } },
      { prefix: '/retried/', cluster: 'd' },
      { prefix: '/', cluster: 'c' },
    ],
    clusters: {
      c: { nodes: [{ id: 'h0', url: backend.url }] },
      r: { nodes: [{ id: 'r0', url: raw.url }] },
      o: { nodes: [{ id: 'o0', url: odd.url }], breaker: { enabled: false } },
      s: { nodes: [{ id: 's0', url: stalled.url }] },
      // A node that resets every request, first on some tenants' ring walks: their requests are retried on h0.
      d: { nodes: [{ id: 'x0', url: resetting.url }, { id: 'h0', url: backend.url }], breaker: { enabled: false } },
    },
  };
  for (const client of ['h1', 'undici']) {
    gateways.set(client, await startGateway(config, { GATEWAY_UPSTREAM_CLIENT: client, GATEWAY_THREADS: '1', GATEWAY_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) }));
  }
});

afterAll(async () => {
  for (const gateway of gateways.values()) expect(await gateway.stop()).toBe(0);
  await Promise.all([backend.close(), stalled.close(), resetting.close(), raw.close(), odd.close()]);
});

describe('GATEWAY_UPSTREAM_CLIENT', () => {
  it.each(['h1', 'undici'])('%s: proxies a large answer, a chunked one and an upload alike', async (client) => {
    const port = gateways.get(client)!.port;
    const big = await send(port, '/big', { tenant: 't' });
    expect(big.status).toBe(200);
    expect(big.body.equals(BIG)).toBe(true);
    const chunked = await send(port, '/small', { tenant: 't', method: 'POST', body: 'abc' });
    expect(chunked.text).toBe('POST 3');
  });

  it.each(['h1', 'undici'])('%s: answers 502 ERR_UPSTREAM_PROTOCOL for a status past 599, and forwards 599 as it is', async (client) => {
    const port = gateways.get(client)!.port;
    const last = await send(port, '/odd/599', { tenant: 't' });
    expect([last.status, last.text]).toEqual([599, 'ok']);
    for (const status of [600, 700, 999]) expectError(await send(port, `/odd/${status}`, { tenant: 't' }), 'ERR_UPSTREAM_PROTOCOL');
  });

  it.each(['h1', 'undici'])("%s: answers a HEAD with the node's Content-Length and no body, and reads the connection's next request", async (client) => {
    const socket = connect(gateways.get(client)!.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.write('HEAD /big HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t\r\n\r\n');
    await expect.poll(() => statuses(text)).toEqual([200]);
    // The gateway's own answer to a HEAD has no body either.
    socket.write('HEAD /_ringgate/healthz HTTP/1.1\r\nHost: a\r\n\r\n');
    await expect.poll(() => statuses(text)).toEqual([200, 200]);
    socket.write('POST /after HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t\r\nContent-Length: 2\r\n\r\nhi');
    await expect.poll(() => statuses(text), { timeout: 3_000 }).toEqual([200, 200, 200]);
    socket.destroy();
    const [big, health, after] = text.split(/(?=HTTP\/1\.1 )/);
    expect(big!.toLowerCase()).toContain(`content-length: ${BIG.length}\r\n`);
    expect(big!.endsWith('\r\n\r\n')).toBe(true);
    expect(health!.endsWith('\r\n\r\n')).toBe(true);
    expect(after).toContain('POST 2');
    // One that closes the connection (a Host refused) still closes it (its body goes with it).
    const refused = await rawExchange(gateways.get(client)!.port, 'HEAD /x HTTP/1.1\r\nHost: a b\r\n\r\n', 3_000);
    expect(statuses(refused.text)).toEqual([400]);
    expect(refused.closedByPeer).toBe(true);
  });

  it.each(['h1', 'undici'])("%s: forwards a target and header values past ASCII as the client's own bytes", async (client) => {
    const port = gateways.get(client)!.port;
    const requestLine = 'GET /raw/caf\u00e9?q=\u20ac HTTP/1.1';
    // Inside the value: uWS drops non-ASCII bytes at a value's ends (below).
    const note = 'x-note: 10 \u20ac each, caf\u00e9 \u00fcber';
    const { text } = await rawExchange(port, Buffer.from(`${requestLine}\r\nHost: a\r\nX-Tenant-ID: t\r\nConnection: close\r\n${note}\r\n\r\n`, 'utf8'));
    expect(statuses(text)).toEqual([200]);
    const sent = Buffer.from(rawHeads.at(-1)!, 'latin1');
    expect(sent.subarray(0, Buffer.byteLength(requestLine)).toString('utf8')).toBe(requestLine);
    expect(sent.includes(Buffer.from(`\r\n${note}\r\n`, 'utf8'))).toBe(true);
    // A byte that is not UTF-8 reached uWS as U+FFFD, and what it was is lost: either client refuses it.
    const bad = await rawExchange(port, Buffer.from('GET /raw/x HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t\r\nConnection: close\r\nX-Note: caf\xe9 ok\r\n\r\n', 'latin1'));
    expectError({ status: statuses(bad.text)[0] ?? 0, text: JSON.stringify(jsonBodies(bad.text)[0] ?? {}) }, 'ERR_BAD_HEADER');
  });

  it.each(['h1', 'undici'])('%s: reads and drops the rest of a streamed upload it cannot forward before it answers, so the client can send it all', async (client) => {
    const socket = connect(gateways.get(client)!.port, '127.0.0.1');
    let text = '';
    let error: string | null = null;
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    // 16 MiB, more than loopback's buffers hold: closed before it has all been read, the writes fail.
    const length = 16 * 1024 * 1024;
    socket.write(Buffer.from(`POST /raw/up HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t\r\nX-Note: caf\xe9 ok\r\nContent-Length: ${length}\r\n\r\n`, 'latin1'));
    socket.end(Buffer.alloc(length, 'b'));
    await closed;
    expect(error).toBeNull();
    expectError({ status: statuses(text)[0] ?? 0, text: JSON.stringify(jsonBodies(text)[0] ?? {}) }, 'ERR_BAD_HEADER');
  });

  it.each([
    ['h1', '/slow-upload-h1'],
    ['undici', '/slow-upload-undici'],
    ['h1', '/per-try/slow-upload'],
  ])("%s: times the node's answer from when it has the request whole, not while the client is slow to upload (%s)", async (client, path) => {
    const body = Buffer.alloc(1024 * 1024, 'u'); // past GATEWAY_BUFFER_BODY_BYTES: streamed to the node as it comes
    const socket = connect(gateways.get(client)!.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, 100_000));
    await expect.poll(() => uploaded.get(path) ?? 0).toBe(100_000);
    // The client is quiet for well over the timeout (and its sweep's tick): the node waits for it.
    await new Promise((resolve) => setTimeout(resolve, 2.5 * TIMEOUT_MS));
    socket.write(body.subarray(100_000));
    await expect.poll(() => statuses(text).length).toBe(1);
    socket.destroy();
    expect(statuses(text)).toEqual([200]);
    expect(uploaded.get(path)).toBe(body.length);
  });

  it('gives a retry the whole timeout from when the request was whole, not from its arrival (a body read whole first)', async () => {
    const port = gateways.get('h1')!.port;
    // A tenant whose first try goes to the resetting node: its answer comes from a retry.
    let tenant = '';
    for (let i = 0; i < 100 && tenant === ''; i++) {
      const probe = await send(port, '/retried/probe', { tenant: `r${i}` });
      if (probe.status === 200 && backend.seen.at(-1)!.headers['x-ringgate-attempt'] === '2') tenant = `r${i}`;
    }
    expect(tenant).not.toBe('');
    const body = Buffer.alloc(40_000, 'w'); // under GATEWAY_BUFFER_BODY_BYTES: read whole, then sent
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.write(`PUT /retried/slow HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: ${tenant}\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.subarray(0, 10_000));
    // The client takes longer than the whole timeout to send its body.
    await new Promise((resolve) => setTimeout(resolve, 2.5 * TIMEOUT_MS));
    socket.write(body.subarray(10_000));
    await expect.poll(() => statuses(text).length).toBe(1);
    socket.destroy();
    expect(statuses(text)).toEqual([200]);
    expect(text).toContain(`PUT ${body.length}`);
    expect(backend.seen.at(-1)!.headers['x-ringgate-attempt']).toBe('2');
  });

  it.each(['h1', 'undici'])('%s: still times a node that stops reading an upload', async (client) => {
    const body = Buffer.alloc(6 * 1024 * 1024, 's'); // past what loopback buffers take
    const socket = connect(gateways.get(client)!.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    socket.write(`POST /stalled/upload HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body);
    await expect.poll(() => statuses(text).length, { timeout: 10_000 }).toBe(1);
    socket.destroy();
    expectError({ status: statuses(text)[0]!, text: JSON.stringify(jsonBodies(text)[0]) }, 'ERR_UPSTREAM_TIMEOUT');
  });

  it('pins a uWS 20.30 limit: non-ASCII bytes at either end of a header value never reach the gateway', async () => {
    const head = 'GET /raw/ends HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t\r\nConnection: close\r\nX-Tail: abc \u00e9\u20ac\r\nX-Lead: \u00e9 x\r\nX-Inner: a \u00e9 b\r\n\r\n';
    const { text } = await rawExchange(gateways.get('h1')!.port, Buffer.from(head, 'utf8'));
    expect(statuses(text)).toEqual([200]);
    const sent = Buffer.from(rawHeads.at(-1)!, 'latin1').toString('utf8');
    // uWS trims a value as if every byte past 0x7f were whitespace (README, "uWebSockets.js 20.30 limits").
    expect(sent).toContain('\r\nx-tail: abc\r\n');
    expect(sent).toContain('\r\nx-lead: x\r\n');
    expect(sent).toContain('\r\nx-inner: a \u00e9 b\r\n');
  });

  it('chooses the client: undici says Connection: keep-alive on every request, the own client never', async () => {
    for (const [client, expected] of [['h1', undefined], ['undici', 'keep-alive']] as const) {
      backend.seen.length = 0;
      expect((await send(gateways.get(client)!.port, '/which', { tenant: 't' })).status).toBe(200);
      expect(backend.seen.at(-1)!.headers.connection).toBe(expected);
    }
  });
});
