import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { pump } from '../helpers/pump.js';
import { statuses } from '../helpers/raw-http.js';

let node: Server;
const nodeSockets = new Set<Socket>();
let gateway: GatewayProcess;
const BODY = 16 * 1024 * 1024;

beforeAll(async () => {
  // Answers a POST 401 after its first MiB, reading no more of it (a node that checks credentials
  // before it reads an upload); a GET 200 at once.
  node = createServer((socket) => {
    nodeSockets.add(socket);
    socket.on('close', () => nodeSockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    let body = 0;
    socket.on('data', (data: Buffer) => {
      if (!head.includes('\r\n\r\n')) {
        head += data.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (head.startsWith('GET')) {
          head = '';
          return void socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        }
        body = head.length - end - 4;
      } else body += data.length;
      if (body >= 1024 * 1024 && !socket.isPaused()) {
        socket.pause();
        // A moment later: the buffers between the client and this node fill, and the gateway
        // pauses the client's upload.
        setTimeout(() => socket.write('HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\nno'), 300);
      }
    });
  });
  await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
  gateway = await startGateway({ routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'n', url }] } } }, { GATEWAY_THREADS: '1' });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  for (const socket of nodeSockets) socket.destroy();
  await new Promise((resolve) => node.close(resolve));
});

describe('a node that answers before the upload is over', () => {
  it('its answer reaches the client, the rest of the upload is read and dropped, and the connection serves the next request', async () => {
    const client = connect(gateway.port, '127.0.0.1');
    let text = '';
    let closed = false;
    client.on('data', (data: Buffer) => (text += data.toString('latin1')));
    client.on('close', () => (closed = true));
    client.on('error', () => {});
    await new Promise((resolve) => client.once('connect', resolve));
    client.write(`POST /upload HTTP/1.1\r\nHost: a\r\ncontent-length: ${BODY}\r\n\r\n`);
    // The whole body, as a client that sends it before it reads the answer.
    await pump(client, BODY);
    await expect.poll(() => statuses(text), { timeout: 10_000 }).toEqual([401]);
    client.write('GET /next HTTP/1.1\r\nHost: a\r\n\r\n');
    await expect.poll(() => statuses(text), { timeout: 5_000 }).toEqual([401, 200]);
    expect(closed).toBe(false);
    client.destroy();
  }, 30_000);
});
