import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_LIMITS, startAdminServer, type AdminLimits, type AdminServer } from '../../src/coordinator/admin-server.js';
import { stubAdminRoutes } from '../helpers/admin-routes.js';
import { expectError, send } from '../helpers/http.js';
import { jsonBodies, rawExchange, statuses, type RawResult } from '../helpers/raw-http.js';

let server: AdminServer | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = null;
});

/** A connection to the admin port, and when (ms after it opened) the server closed it; null while open. */
function open(port: number): { socket: Socket; closedAfter: () => number | null; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  sockets.push(socket);
  const openedAt = performance.now();
  let closedAfter: number | null = null;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closedAfter = performance.now() - openedAt;
      resolve();
    }),
  );
  return { socket, closedAfter: () => closedAfter, closed };
}

/** A loopback admin server with `limits`, the others as the gateway has them. */
const serve = (limits: Partial<AdminLimits>): Promise<AdminServer> =>
  startAdminServer('127.0.0.1', 0, stubAdminRoutes(), { token: undefined, loopback: true }, pino({ level: 'silent' }), { ...ADMIN_LIMITS, ...limits });

/** Resolves after `ms`, or earlier with `promise`. */
const within = (promise: Promise<void>, ms: number): Promise<void> => Promise.race([promise, new Promise<void>((resolve) => setTimeout(resolve, ms))]);

describe('the admin server holds no connection for free', () => {
  it('closes a connection that never sends a byte', async () => {
    server = await serve({
      idleMs: 300,
      headMs: 1_000,
      requestMs: 2_000,
      maxConnections: 16,
    });
    const idle = open(server.port);
    await within(idle.closed, 3_000);
    expect(idle.closedAfter()).not.toBeNull();
  });

  it('closes a connection whose head trickles in past its deadline', async () => {
    server = await serve({
      idleMs: 10_000,
      headMs: 500,
      requestMs: 2_000,
      maxConnections: 16,
    });
    const slow = open(server.port);
    slow.socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => slow.socket.writable && slow.socket.write('x-a: b\r\n'), 100);
    await within(slow.closed, 4_000);
    clearInterval(drip);
    expect(slow.closedAfter()).not.toBeNull();
  });

  it('keeps at most maxConnections open, and answers again once they go', async () => {
    const max = 16;
    server = await serve({
      idleMs: 10_000,
      headMs: 5_000,
      requestMs: 10_000,
      maxConnections: max,
    });
    const held = Array.from({ length: max + 20 }, () => open(server!.port));
    // Until the server closes the ones past its cap, all of them count as open.
    await expect.poll(() => held.filter((c) => c.closedAfter() === null).length, { timeout: 5_000 }).toBeLessThanOrEqual(max);
    for (const c of held) c.socket.destroy();
    await expect.poll(async () => (await send(server!.port, '/v1/nodes')).status, { timeout: 5_000 }).toBe(200);
  });
});

/** A JSON body of exactly `bytes` bytes. */
const jsonOf = (bytes: number): string => `{"pad":"${'x'.repeat(bytes - 10)}"}`;

describe('the admin server holds at most maxBufferedBytes of pushes at once', () => {
  it('answers a push past them 503 with Retry-After, and has every byte back however a read ended', async () => {
    const budget = 256 * 1024;
    server = await serve({ maxBufferedBytes: budget });
    const port = server.port;
    const pushOf = (bytes: number) => send(port, '/v1/nodes', { method: 'POST', body: jsonOf(bytes) });
    // Held: 150 KiB of a declared 200 KiB, the rest never sent.
    const held = open(port);
    held.socket.write(`POST /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${200 * 1024}\r\n\r\n${'x'.repeat(150 * 1024)}`);
    // Once the server holds them, 150 KiB more would pass the budget: read to its end, then refused.
    await expect.poll(async () => (await pushOf(150 * 1024)).status, { timeout: 5_000 }).toBe(503);
    const refused = await pushOf(150 * 1024);
    expectError(refused, 'ERR_PUSH_BUFFER_FULL');
    expect(refused.headers['retry-after']).toBe('1');
    // Held too: 100 KiB of a chunked one, then a malformed chunk that ends its read in an error.
    const broken = open(port);
    broken.socket.write(`POST /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n${(100 * 1024).toString(16)}\r\n${'x'.repeat(100 * 1024)}\r\n`);
    await expect.poll(async () => (await pushOf(10 * 1024)).status, { timeout: 5_000 }).toBe(503);
    // Read, or the answer left unread would hold its close back.
    broken.socket.resume().write('zz\r\n');
    await within(broken.closed, 5_000);
    expect(broken.closedAfter()).not.toBeNull();
    // The held one cut off by its client.
    held.socket.destroy();
    // Every byte back: a push of the whole budget fits only in an empty one.
    await expect.poll(async () => (await pushOf(budget)).status, { timeout: 5_000 }).toBe(200);
  });
});

/** The one answer a raw exchange got, as expectError reads it. */
const answerOf = ({ text }: RawResult): { status: number; text: string } => ({ status: statuses(text)[0] ?? 0, text: JSON.stringify(jsonBodies(text)[0] ?? null) });

describe('the admin server answers what node:http refuses itself as JSON, with a code', () => {
  it('a malformed head, one over 16 KiB, a body framed two ways, an HTTP/1.1 head without Host: answered, then closed', async () => {
    server = await serve({});
    for (const [payload, code] of [
      ['GET /v1/nodes HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n', 'ERR_MALFORMED_REQUEST'],
      ['BREW /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'ERR_MALFORMED_REQUEST'],
      [`GET /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 'ERR_HEADERS_TOO_LARGE'],
      ['POST /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', 'ERR_BAD_FRAMING'],
      ['GET /v1/nodes HTTP/1.1\r\n\r\n', 'ERR_BAD_HOST'],
    ] as const) {
      const result = await rawExchange(server.port, payload, 5_000);
      expectError(answerOf(result), code);
      expect(result.closedByPeer).toBe(true);
    }
    // The parser's reason is said, the request's bytes are not.
    const { text } = await rawExchange(server.port, 'GET /v1/nodes HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n', 5_000);
    expect(jsonBodies(text)[0]).toEqual({ error: 'the admin server cannot read the request as HTTP/1.1: Invalid header token', code: 'ERR_MALFORMED_REQUEST' });
  });

  it('a malformed request pipelined behind others read whole: answered after their answers, then closed', async () => {
    let applied = 0;
    server = await startAdminServer('127.0.0.1', 0, { ...stubAdminRoutes(), pushNodes: () => ({ ok: true, applied: ++applied }) }, { token: undefined, loopback: true }, pino({ level: 'silent' }), ADMIN_LIMITS);
    const push = 'POST /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
    const get = 'GET /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const malformed = 'BREW /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    // In one write: the parser refuses the last before the push's answer is ready (its body is read asynchronously).
    for (const [earlier, answered] of [
      [push, [{ applied: 1 }]],
      [`${push}${get}${push}`, [{ applied: 2 }, { nodes: [] }, { applied: 3 }]],
    ] as const) {
      const result = await rawExchange(server.port, `${earlier}${malformed}`, 5_000);
      expect(statuses(result.text)).toEqual([...answered.map(() => 200), 400]);
      expect(jsonBodies(result.text)).toEqual([...answered, { error: 'the admin server cannot read the request as HTTP/1.1: Invalid method encountered', code: 'ERR_MALFORMED_REQUEST' }]);
      expect(result.closedByPeer).toBe(true);
    }
  });

  it('a head that is not whole in time: 408, then closed', async () => {
    server = await serve({ headMs: 500 });
    const result = await rawExchange(server.port, 'GET /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n', 5_000);
    expectError(answerOf(result), 'ERR_REQUEST_TIMEOUT');
    expect(result.closedByPeer).toBe(true);
  });
});
