import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, pooled, send } from '../helpers/http.js';
import { connect } from 'node:net';
import { rawExchange } from '../helpers/raw-http.js';

let backend: Backend;
let gateway: GatewayProcess;
let errorsOnly: GatewayProcess;
let sampledOut: GatewayProcess;
let silent: GatewayProcess;
/** Request body bytes the node has read, by X-Request-Id. */
const uploaded = new Map<string, number>();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UUID_LINE = /\r\nx-request-id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\r\n/i;

/** The answer's head to a request carrying these X-Request-Id lines (node:http would fold repeats into one). */
async function rawIds(port: number, ids: string[], path = '/dup'): Promise<string> {
  const head = `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-tenant-id: t1\r\n${ids.map((id) => `x-request-id: ${id}\r\n`).join('')}connection: close\r\n\r\n`;
  return `${(await rawExchange(port, head, 5000)).text.split('\r\n\r\n', 1)[0]!}\r\n`;
}

interface AccessLine {
  msg: string;
  time: number;
  requestId: string;
  tenant?: string;
  method: string;
  path: string;
  status: number;
  node?: string;
  bytesIn: number;
  bytesOut: number;
  upstreamMs?: number;
  totalMs: number;
  reason?: string;
  code?: string;
}

const accessLines = (g: GatewayProcess): AccessLine[] =>
  g.logs.map((line) => JSON.parse(line) as AccessLine).filter((entry) => entry.msg === 'request');

/** The access line of request `id`, once it was written. */
const lineOf = async (g: GatewayProcess, id: string): Promise<AccessLine> => {
  await expect.poll(() => accessLines(g).some((line) => line.requestId === id)).toBe(true);
  return accessLines(g).find((line) => line.requestId === id)!;
};

beforeAll(async () => {
  // Echoes the X-Request-Id it got, and sets one of its own in the answer (the client must not get it).
  backend = await startBackend('n0', (req, res) => {
    const id = String(req.headers['x-request-id']);
    req.on('data', (chunk: Buffer) => uploaded.set(id, (uploaded.get(id) ?? 0) + chunk.length));
    req.on('end', () => {
      const status = req.url === '/fail' ? 503 : 200;
      res.writeHead(status, { 'content-type': 'text/plain', 'x-request-id': 'from-the-node' }).end(`seen=${String(req.headers['x-request-id'])}`);
    });
  });
  const config = {
    routes: [
      { prefix: '/compact/', cluster: 'c', forwardHeaders: ['accept'] },
      { prefix: '/keyed/', cluster: 'c', idempotency: 'optional' },
      { prefix: '/held/', cluster: 'c', multiplex: { holdMs: 300 } },
      { prefix: '/', cluster: 'c', retries: { max: 0 } },
    ],
    clusters: { c: { nodes: [{ id: 'n0', url: backend.url }] } },
  };
  [gateway, errorsOnly, sampledOut, silent] = await Promise.all([
    startGateway(config, { GATEWAY_THREADS: '2' }),
    startGateway(config, { GATEWAY_THREADS: '1', GATEWAY_ACCESS_LOG: 'errors' }),
    startGateway(config, { GATEWAY_THREADS: '1', GATEWAY_ACCESS_LOG_SAMPLE: '0' }),
    startGateway(config, { GATEWAY_THREADS: '1', GATEWAY_ACCESS_LOG: 'off' }),
  ]);
});

afterAll(async () => {
  for (const g of [gateway, errorsOnly, sampledOut, silent]) if (g !== undefined) expect(await g.stop()).toBe(0);
  await backend?.close();
});

describe('X-Request-Id', () => {
  it('keeps a valid id from the client, forwards it and returns it (once: the node\'s own is dropped)', async () => {
    const reply = await send(gateway.port, '/a', { tenant: 't1', headers: { 'x-request-id': 'client-id.42:ab/c+d=' } });
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('seen=client-id.42:ab/c+d=');
    expect(reply.headers['x-request-id']).toBe('client-id.42:ab/c+d=');
  });

  it('makes one (a UUID) when the client sent none, the same upstream and back', async () => {
    const reply = await send(gateway.port, '/a', { tenant: 't1' });
    const id = reply.headers['x-request-id'] as string;
    expect(id).toMatch(UUID);
    expect(reply.text).toBe(`seen=${id}`);
  });

  it('replaces an invalid one (spaces, too long) rather than pass it on', async () => {
    for (const bad of ['two words', 'x'.repeat(129), '"quoted"']) {
      const reply = await send(gateway.port, '/a', { tenant: 't1', headers: { 'x-request-id': bad } });
      expect(reply.headers['x-request-id']).toMatch(UUID);
      expect(reply.text).toBe(`seen=${reply.headers['x-request-id'] as string}`);
    }
  });

  it('reaches the node on a route with header compaction too', async () => {
    const reply = await send(gateway.port, '/compact/x', { tenant: 't1', headers: { 'x-request-id': 'compacted-1' } });
    expect(reply.text).toBe('seen=compacted-1');
  });

  it('is on the gateway\'s own answers: errors, the health path', async () => {
    const missing = await send(gateway.port, '/a', { headers: { 'x-request-id': 'no-tenant-1' } });
    expectError(missing, 'ERR_MISSING_TENANT');
    expect(missing.headers['x-request-id']).toBe('no-tenant-1');
    const health = await send(gateway.port, '/_ringgate/healthz', { headers: { 'x-request-id': 'health-1' } });
    expect(health.headers['x-request-id']).toBe('health-1');
  });

  it('is each request\'s own on a replayed answer and on a multiplexed one', async () => {
    const write = (id: string) =>
      send(gateway.port, '/keyed/order', { method: 'POST', tenant: 't1', body: 'x', headers: { 'idempotency-key': 'k-access-1', 'x-request-id': id } });
    const first = await write('write-1');
    const replay = await write('write-2');
    expect(replay.text).toBe(first.text);
    expect([first.headers['x-request-id'], replay.headers['x-request-id']]).toEqual(['write-1', 'write-2']);

    const reads = await Promise.all(
      ['read-1', 'read-2'].map((id) => send(silent.port, '/held/same', { tenant: 't1', headers: { 'x-request-id': id } })),
    );
    expect(new Set(reads.map((r) => r.text)).size).toBe(1);
    expect(reads.map((r) => r.headers['x-request-id'])).toEqual(['read-1', 'read-2']);
  });
});

describe('access log (GATEWAY_ACCESS_LOG)', () => {
  it('writes a JSON line per request: id, tenant, method, path, status, node, bytes, times, reason', async () => {
    await send(gateway.port, '/logged?secret=1', { method: 'POST', tenant: 'acme', body: 'hello', headers: { 'x-request-id': 'log-1' } });
    const line = await lineOf(gateway, 'log-1');
    expect(line).toMatchObject({ tenant: 'acme', method: 'POST', path: '/logged', status: 200, node: 'n0', reason: 'ring_owner', bytesOut: 'seen=log-1'.length });
    expect(line.code).toBeUndefined();
    expect(line.bytesIn).toBeGreaterThan('hello'.length);
    expect(line.upstreamMs).toBeGreaterThanOrEqual(0);
    expect(line.totalMs).toBeGreaterThanOrEqual(line.upstreamMs!);
    expect(Math.abs(line.time - Date.now())).toBeLessThan(60_000);
  });

  it('counts in bytesIn the body bytes the client sent: a chunked upload, and of one cut short only what came', async () => {
    const chunk = Buffer.alloc(100_000, 'c');
    const head = (id: string, framing: string) => `POST /upload HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t1\r\nX-Request-Id: ${id}\r\n${framing}\r\n\r\n`;
    const chunked = connect(gateway.port, '127.0.0.1');
    chunked.write(head('bytes-chunked', 'Transfer-Encoding: chunked'));
    for (let i = 0; i < 3; i++) chunked.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    // Not ended: uWS takes a half-close for a client that left.
    chunked.write('0\r\n\r\n');
    const whole = await lineOf(gateway, 'bytes-chunked');
    chunked.destroy();
    expect(whole.status).toBe(200);
    // The head as sent, and the body without its chunk framing.
    expect(whole.bytesIn).toBe(head('bytes-chunked', 'Transfer-Encoding: chunked').length + 3 * chunk.length);
    // 1 MB declared, 100 kB sent, then the client leaves.
    const cut = connect(gateway.port, '127.0.0.1');
    cut.on('error', () => {});
    cut.write(head('bytes-cut', 'Content-Length: 1000000'));
    cut.write(chunk);
    await expect.poll(() => uploaded.get('bytes-cut')).toBe(chunk.length);
    cut.destroy();
    const partial = await lineOf(gateway, 'bytes-cut');
    expect(partial.status).toBe(499);
    expect(partial.bytesIn).toBe(head('bytes-cut', 'Content-Length: 1000000').length + chunk.length);
  });

  it('logs the gateway\'s errors with their code, and a node\'s 5xx', async () => {
    await send(gateway.port, '/a', { headers: { 'x-request-id': 'log-err-1' } });
    expect(await lineOf(gateway, 'log-err-1')).toMatchObject({ status: 400, code: 'ERR_MISSING_TENANT' });
    expect((await lineOf(gateway, 'log-err-1')).node).toBeUndefined();
    await send(gateway.port, '/fail', { tenant: 't1', headers: { 'x-request-id': 'log-503' } });
    expect(await lineOf(gateway, 'log-503')).toMatchObject({ status: 503, node: 'n0' });
  });

  it('names a multiplexed request\'s reason', async () => {
    await Promise.all(['mx-1', 'mx-2'].map((id) => send(gateway.port, '/held/log', { tenant: 't1', headers: { 'x-request-id': id } })));
    const reasons = [(await lineOf(gateway, 'mx-1')).reason, (await lineOf(gateway, 'mx-2')).reason].sort();
    // With two threads the second may land on the other one: it waits on the call there, still multiplexed.
    expect(reasons).toEqual(['multiplexed', 'ring_owner']);
  });

  it('keeps whole lines while two threads log at once', async () => {
    const before = accessLines(gateway).length;
    await pooled(16, Array.from({ length: 600 }, (_, i) => () => send(gateway.port, `/burst/${i}`, { tenant: `t${i % 7}` })));
    // Each line parsed as JSON (accessLines would throw on a torn one), and none lost.
    await expect.poll(() => accessLines(gateway).length - before, { timeout: 10_000 }).toBe(600);
  });

  it('cuts client-given fields so that no line is longer than a pipe writes at once, from either thread', async () => {
    const long = `/${'p'.repeat(8000)}`;
    const before = accessLines(gateway).length;
    await pooled(8, Array.from({ length: 200 }, (_, i) => () => send(gateway.port, `${long}${i}`, { tenant: 'x'.repeat(200) })));
    await expect.poll(() => accessLines(gateway).length - before, { timeout: 10_000 }).toBe(200);
    for (const line of accessLines(gateway).slice(before)) {
      expect(JSON.stringify(line).length).toBeLessThan(4096);
      expect(line.path).toMatch(/^\/p{511}…$/);
    }
  });

  it('makes a new id for a request with two X-Request-Id headers, even when the first is empty', async () => {
    const reply = await rawIds(gateway.port, ['', 'second-id']);
    expect(reply).toMatch(UUID_LINE);
  });

  it('makes a new id on the health path too for two X-Request-Id headers', async () => {
    expect(await rawIds(gateway.port, ['first-id', 'second-id'], '/_ringgate/healthz')).toMatch(UUID_LINE);
    expect(await rawIds(gateway.port, ['only-id'], '/_ringgate/healthz')).toContain('\r\nx-request-id: only-id\r\n');
  });

  it('with GATEWAY_ACCESS_LOG_SAMPLE=0.5, logs about half the requests that are not errors, and every error', async () => {
    const half = await startGateway(
      // No breaker: the node's 503s must not open it, which would make every request an error.
      { routes: [{ prefix: '/', cluster: 'c', retries: { max: 0 } }], clusters: { c: { nodes: [{ id: 'n0', url: backend.url }], breaker: { enabled: false } } } },
      { GATEWAY_THREADS: '1', GATEWAY_ACCESS_LOG_SAMPLE: '0.5' },
    );
    try {
      // 400 fine requests, each followed by an error (a node's 503 or a missing tenant) every tenth.
      for (let i = 0; i < 400; i++) {
        expect((await send(half.port, '/fine', { tenant: 't1', headers: { 'x-request-id': `half-ok-${i}` } })).status).toBe(200);
        if (i % 10 === 9) await send(half.port, i % 20 === 19 ? '/fail' : '/fine', { tenant: i % 20 === 19 ? 't1' : undefined, headers: { 'x-request-id': `half-err-${i}` } });
      }
      // One thread logs in order: once the last error's line is out, every line before it is too.
      await lineOf(half, 'half-err-399');
      const ids = new Set(accessLines(half).map((line) => line.requestId));
      const errors = Array.from({ length: 40 }, (_, j) => `half-err-${10 * j + 9}`);
      expect(errors.filter((id) => !ids.has(id))).toEqual([]);
      // Binomial(400, 0.5): 200 ± 10; outside 120..280 (8 standard deviations) is a chance under 1e-14.
      const logged = Array.from({ length: 400 }, (_, i) => `half-ok-${i}`).filter((id) => ids.has(id)).length;
      expect(logged).toBeGreaterThanOrEqual(120);
      expect(logged).toBeLessThanOrEqual(280);
    } finally {
      expect(await half.stop()).toBe(0);
    }
  });

  it('with `errors` (or a sample of 0), logs errors only; with `off`, nothing', async () => {
    for (const g of [errorsOnly, sampledOut, silent]) {
      await send(g.port, '/fine', { tenant: 't1', headers: { 'x-request-id': 'quiet-ok' } });
      await send(g.port, '/fine', { headers: { 'x-request-id': 'quiet-err' } });
    }
    for (const g of [errorsOnly, sampledOut]) {
      // One thread logs in order: once the error's line is out, the fine request's would be too.
      expect((await lineOf(g, 'quiet-err')).code).toBe('ERR_MISSING_TENANT');
      expect(accessLines(g).some((line) => line.requestId === 'quiet-ok')).toBe(false);
    }
    // A drained gateway has written all it had: with `off`, that is no access line.
    expect(await silent.stop()).toBe(0);
    expect(accessLines(silent)).toEqual([]);
  });
});
