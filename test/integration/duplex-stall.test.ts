import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, rssBytes, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';
import { pump } from '../helpers/pump.js';

const TOTAL = 32 * 1024 * 1024;
const STOP_READING = 4 * 1024 * 1024;
let backend: Backend;
let gateway: GatewayProcess;

beforeAll(async () => {
  // Echoes the upload as it reads it: it reads no faster than its answer is taken. /echo declares
  // the answer's length (the upload's), /echo-chunked does not.
  backend = await startBackend('e0', (req, res) => {
    if (req.url === '/small') return void req.resume().on('end', () => res.writeHead(200, { 'content-length': 2 }).end('ok'));
    const length = req.url === '/echo' ? { 'content-length': req.headers['content-length'] } : {};
    res.writeHead(200, { 'content-type': 'application/octet-stream', ...length });
    req.pipe(res);
  });
  gateway = await startGateway({ routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'e0', url: backend.url }] } } }, { GATEWAY_THREADS: '1' });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await backend?.close();
});

describe('an upload and its answer both pushed back (uWS pauses writes with reads)', () => {
  // A chunked answer is written whole into uWS, which holds what the socket did not take and,
  // while the upload is paused, waits for a writable event that does not come: the gateway has
  // nothing of its own to try on each poll, so a client still reading may be cut after STALL_MS
  // too (README, "uWebSockets.js 20.30 limits"). Either way the connection ends and holds nothing.
  it.each([
    ['/echo', 'a declared length'],
    ['/echo-chunked', 'chunked'],
  ])('%s (%s): is closed once it can move neither way, as an idle connection is, and holds nothing after', async (path) => {
    const movesWhileRead = path === '/echo';
    const socket = connect(gateway.port, '127.0.0.1');
    let received = 0;
    let closed = false;
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    socket.on('data', (data: Buffer) => {
      received += data.length;
      // Reads in bursts, slower than it uploads; past 4 MiB, no more: neither way can move then,
      // however fast this machine is (read on, it could take the whole echo in the end).
      socket.pause();
      if (received < STOP_READING) setTimeout(() => socket.resume(), 5);
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: a\r\ncontent-length: ${TOTAL}\r\n\r\n`);
    void pump(socket, TOTAL, () => closed);
    // While the client reads, however slowly a loaded machine lets it, the connection moves and is
    // not cut: before the progress check it was cut 10 s after both ways first stalled.
    await expect.poll(() => received >= STOP_READING || closed, { timeout: 120_000, interval: 200 }).toBe(true);
    if (movesWhileRead) expect(received).toBeGreaterThanOrEqual(STOP_READING);
    // Once it stops, the exchange is closed. Before the first fix it stalled for good (no timeout
    // while uWS is paused). The bound is liveness, not speed: STALL_MS (10 s) once both ways are
    // stuck, and reaching that took over 15 s in full runs with other gateways loading both cores.
    await expect.poll(() => closed, { timeout: 45_000, interval: 200 }).toBe(true);
    expect(received).toBeLessThan(TOTAL);
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_node_in_flight', 'node="e0"')).toBe(0);
    expect((await send(gateway.port, '/small')).text).toBe('ok');
  }, 180_000);

  it('does not read a paused upload on while its answer waits for a client that reads nothing', async () => {
    // Before the fix every write uWS could not finish polled the socket for reads again, so each
    // such client's whole upload (up to GATEWAY_MAX_BODY_BYTES) piled up in the gateway's memory.
    const UPLOAD = 96 * 1024 * 1024;
    const before = rssBytes(gateway.pid);
    const clients: { socket: Socket; handedOver: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const client = { socket: connect(gateway.port, '127.0.0.1'), handedOver: 0 };
      client.socket.on('error', () => {});
      client.socket.pause(); // never reads its answer
      clients.push(client);
      await new Promise((resolve) => client.socket.once('connect', resolve));
      client.socket.write(`POST /echo-chunked HTTP/1.1\r\nHost: a\r\ncontent-length: ${UPLOAD}\r\n\r\n`);
      const counted = { write: (chunk: Buffer) => ((client.handedOver += chunk.length), client.socket.write(chunk)), once: client.socket.once.bind(client.socket) };
      void pump(counted, UPLOAD, () => client.socket.destroyed);
    }
    // What the kernel took off each client: the socket buffers along the way hold 20-45 MiB.
    const taken = (): number[] => clients.map(({ socket, handedOver }) => handedOver - socket.writableLength);
    // Until no upload has moved for a second (held back, or all of it taken).
    let last = '';
    let still = 0;
    const settled = (): boolean => {
      const now = taken().join();
      still = now === last ? still + 1 : 0;
      last = now;
      return still >= 4;
    };
    await expect.poll(settled, { timeout: 30_000, interval: 250 }).toBe(true);
    const grown = rssBytes(gateway.pid) - before;
    for (const { socket } of clients) socket.destroy();
    expect(taken().every((bytes) => bytes < 64 * 1024 * 1024), `bytes taken per client: ${last}`).toBe(true);
    expect(grown).toBeLessThan(64 * 1024 * 1024);
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_node_in_flight', 'node="e0"'), { timeout: 20_000 }).toBe(0);
    expect((await send(gateway.port, '/small')).text).toBe('ok');
  }, 60_000);
});
