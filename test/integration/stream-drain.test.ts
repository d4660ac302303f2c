import { connect } from 'node:net';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { pump } from '../helpers/pump.js';

const TOTAL = 8 * 1024 * 1024;
let backend: Backend;
let gateway: GatewayProcess;
const open: ServerResponse[] = [];

beforeAll(async () => {
  // A stream without a length (chunked to the client) that sends TOTAL bytes, then nothing more, and stays open.
  backend = await startBackend('s0', (req, res) => {
    req.resume();
    open.push(res);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    void pump(res, TOTAL);
  });
  gateway = await startGateway({ routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 's0', url: backend.url }] } } }, { GATEWAY_THREADS: '1' });
});

afterAll(async () => {
  for (const res of open.splice(0)) res.end();
  expect(await gateway?.stop()).toBe(0);
  await backend?.close();
});

describe('a stream the client reads slower than the node sends', () => {
  it('reaches the client whole once it has read on, though the node sends nothing more', async () => {
    const socket = connect(gateway.port, '127.0.0.1');
    let body = 0;
    let head = true;
    socket.on('data', (data: Buffer) => {
      // Everything after the head: chunk framing adds a few bytes a chunk, counted too.
      if (head) {
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = false;
        data = data.subarray(end + 4);
      }
      body += data.length;
      // Read in bursts: the gateway's socket to this client fills, and its writes push back.
      socket.pause();
      setTimeout(() => socket.resume(), 10);
    });
    socket.write('GET /stream HTTP/1.1\r\nHost: a\r\n\r\n');
    await expect.poll(() => body, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(TOTAL);
    socket.destroy();
  }, 30_000);
});
