import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminLimits, type AdminServer } from '../../src/coordinator/admin-server.js';
import { stubAdminRoutes } from '../helpers/admin-routes.js';
import { send } from '../helpers/http.js';

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

/** A loopback admin server with `limits`. */
const serve = (limits: AdminLimits): Promise<AdminServer> =>
  startAdminServer('127.0.0.1', 0, stubAdminRoutes(), { token: undefined, loopback: true }, pino({ level: 'silent' }), limits);

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
