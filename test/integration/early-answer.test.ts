import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { pump } from '../helpers/pump.js';
import { statuses } from '../helpers/raw-http.js';

let node: Server;
const nodeSockets = new Set<Socket>();
let url = '';
const BODY = 16 * 1024 * 1024;
const BIG_ANSWER = 4 * 1024 * 1024;
/** More than the loopback socket buffers on both sides hold: a client that stops reading pushes it back. */
const HUGE_ANSWER = 24 * 1024 * 1024;

beforeAll(async () => {
  // Answers a POST after its first MiB, reading no more of it (a node that checks credentials
  // before it reads an upload): 401, or for /big a 4 MiB answer; a GET 200 at once.
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
        const size = head.startsWith('POST /huge') ? HUGE_ANSWER : head.startsWith('POST /big') ? BIG_ANSWER : 0;
        const answer =
          size > 0
            ? Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n`), Buffer.alloc(size, 0x62)])
            : Buffer.from('HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\nno');
        // A moment later: the buffers between the client and this node fill, and the gateway
        // pauses the client's upload.
        setTimeout(() => socket.write(answer), 300);
      }
    });
  });
  await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of nodeSockets) socket.destroy();
  await new Promise((resolve) => node.close(resolve));
});

describe.each(['h1', 'undici'])('a node that answers before the upload is over (GATEWAY_UPSTREAM_CLIENT=%s)', (client) => {
  let gateway: GatewayProcess;
  beforeAll(async () => {
    gateway = await startGateway({ routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'n', url }] } } }, { GATEWAY_THREADS: '1', GATEWAY_UPSTREAM_CLIENT: client });
  });
  afterAll(async () => {
    expect(await gateway?.stop()).toBe(0);
  });

  /** A connection that keeps what it reads (its first 64 KiB: the rest is counted); `slow` reads in bursts. */
  function clientOf(slow: boolean): { socket: Socket; text: () => string; bytes: () => number; closed: () => boolean } {
    const socket = connect(gateway.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let bytes = 0;
    let closed = false;
    socket.on('data', (data: Buffer) => {
      if (bytes < 64 * 1024) chunks.push(data);
      bytes += data.length;
      if (!slow) return;
      socket.pause();
      setTimeout(() => socket.resume(), 2);
    });
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    return { socket, text: () => Buffer.concat(chunks).toString('latin1'), bytes: () => bytes, closed: () => closed };
  }

  it('its answer reaches the client, the rest of the upload is read and dropped, and the connection serves the next request', async () => {
    const c = clientOf(false);
    await new Promise((resolve) => c.socket.once('connect', resolve));
    c.socket.write(`POST /upload HTTP/1.1\r\nHost: a\r\ncontent-length: ${BODY}\r\n\r\n`);
    // The whole body, as a client that sends it before it reads the answer.
    await pump(c.socket, BODY);
    await expect.poll(() => statuses(c.text()), { timeout: 10_000 }).toEqual([401]);
    c.socket.write('GET /next HTTP/1.1\r\nHost: a\r\n\r\n');
    await expect.poll(() => statuses(c.text()), { timeout: 5_000 }).toEqual([401, 200]);
    expect(c.closed()).toBe(false);
    c.socket.destroy();
  }, 30_000);

  /** A client uploading the whole body to `path` (as fast as it is taken), once the node's 200 head reached it. */
  async function uploadingTo(path: string, slow: boolean): Promise<ReturnType<typeof clientOf>> {
    const c = clientOf(slow);
    await new Promise((resolve) => c.socket.once('connect', resolve));
    c.socket.write(`POST ${path} HTTP/1.1\r\nHost: a\r\ncontent-length: ${BODY}\r\n\r\n`);
    void pump(c.socket, BODY, c.closed);
    await expect.poll(() => statuses(c.text()), { timeout: 10_000 }).toEqual([200]);
    return c;
  }

  /** Every byte of an answer of `size` body bytes reaches `c`. */
  async function expectWholeAnswer(c: ReturnType<typeof clientOf>, size: number): Promise<void> {
    const headBytes = () => c.text().indexOf('\r\n\r\n') + 4;
    await expect.poll(() => c.bytes() - headBytes() >= size || c.closed(), { timeout: 20_000 }).toBe(true);
    expect(c.bytes() - headBytes()).toBe(size);
    c.socket.destroy();
  }

  it('a large early answer reaches a client that reads it slowly, whole', async () => {
    const c = await uploadingTo('/big', true);
    await expectWholeAnswer(c, BIG_ANSWER);
  }, 40_000);

  it('a large early answer reaches a client that stops reading for a while, whole (no writable event comes while the upload is paused)', async () => {
    const c = await uploadingTo('/huge', false);
    // The answer fills the socket buffers both ways and is pushed back while the upload waits paused.
    c.socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    c.socket.resume();
    await expectWholeAnswer(c, HUGE_ANSWER);
  }, 40_000);
});
