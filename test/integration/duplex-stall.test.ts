import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';
import { pump } from '../helpers/pump.js';

const TOTAL = 32 * 1024 * 1024;
const STOP_READING = 4 * 1024 * 1024;
let backend: Backend;
let gateway: GatewayProcess;

beforeAll(async () => {
  // Echoes the upload as it reads it: it reads no faster than its answer is taken.
  backend = await startBackend('e0', (req, res) => {
    if (req.url === '/small') return void req.resume().on('end', () => res.writeHead(200, { 'content-length': 2 }).end('ok'));
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.pipe(res);
  });
  gateway = await startGateway({ routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'e0', url: backend.url }] } } }, { GATEWAY_THREADS: '1' });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await backend?.close();
});

describe('an upload and its answer both pushed back (uWS pauses writes with reads)', () => {
  it('is closed once it can move neither way, as an idle connection is, and holds nothing after', async () => {
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
    socket.write(`POST /echo HTTP/1.1\r\nHost: a\r\ncontent-length: ${TOTAL}\r\n\r\n`);
    void pump(socket, TOTAL, () => closed);
    // Before the fix the exchange stalled for good (no timeout while uWS is paused). The bound is
    // liveness, not speed: STALL_MS (10 s) once both ways are stuck, and reaching that took over
    // 15 s in full runs with other gateways loading both cores (25 s failed there three times).
    await expect.poll(() => closed, { timeout: 45_000, interval: 200 }).toBe(true);
    expect(received).toBeLessThan(TOTAL);
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_node_in_flight', 'node="e0"')).toBe(0);
    expect((await send(gateway.port, '/small')).text).toBe('ok');
  }, 60_000);
});
