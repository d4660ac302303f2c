import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELD_ANSWER_MAX_BYTES } from '../../src/acceptor/answer-writes.js';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';

/** `size` bytes that say which request they answer: a mix-up between answers cannot go unseen. */
const bodyFor = (id: string, size: number) => Buffer.alloc(size, `${id};`);

/** Sizes around the held answers' limit: held, held at the limit, written at once. */
const SIZES = [2, 1000, HELD_ANSWER_MAX_BYTES, HELD_ANSWER_MAX_BYTES + 1, 70_000];

let backends: Backend[] = [];
let gateway: GatewayProcess;

beforeAll(async () => {
  backends = await Promise.all(
    ['n0', 'n1'].map((id) =>
      startBackend(id, (req, res) => {
        req.resume();
        const [, kind, size, key] = req.url!.split('/');
        const body = bodyFor(key!, Number(size));
        if (kind === 'chunked') res.writeHead(200).end(body);
        else res.writeHead(200, { 'content-length': body.length }).end(body);
      }),
    ),
  );
  gateway = await startGateway({
    routes: [{ prefix: '/', cluster: 'c' }],
    clusters: { c: { nodes: backends.map((b) => ({ id: b.id, url: b.url })) } },
  });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
});

function get(agent: Agent, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gateway.port, path, agent, headers: { 'x-tenant-id': `t${path.length % 7}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('answers held for the end of the turn, through real sockets', () => {
  it('gives every one of many concurrent keep-alive requests its own answer, whole, at every size', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 48 });
    try {
      const paths = Array.from({ length: 600 }, (_, i) => `/${i % 5 === 4 ? 'chunked' : 'length'}/${SIZES[i % SIZES.length]}/r${i}`);
      const replies = await Promise.all(paths.map((path) => get(agent, path)));
      replies.forEach((reply, i) => {
        const [, , size, key] = paths[i]!.split('/');
        expect(reply.status).toBe(200);
        expect(reply.body.equals(bodyFor(key!, Number(size)))).toBe(true);
      });
    } finally {
      agent.destroy();
    }
  }, 30_000);

  it('answers the others and leaks nothing when clients leave as their answers come', async () => {
    const leaving = Array.from(
      { length: 200 },
      (_, i) =>
        new Promise<void>((resolve) => {
          const socket = connect(gateway.port, '127.0.0.1', () => {
            socket.write(`GET /length/1000/gone${i} HTTP/1.1\r\nHost: x\r\nX-Tenant-Id: gone\r\n\r\n`);
            // Gone on its answer's first bytes, or at once: some leave while their answer is held.
            if (i % 2 === 0) socket.destroy();
            else socket.once('data', () => socket.destroy());
          });
          socket.on('error', () => {});
          socket.on('close', () => resolve());
        }),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    try {
      const staying = await Promise.all(Array.from({ length: 200 }, (_, i) => get(agent, `/length/1000/stay${i}`)));
      await Promise.all(leaving);
      staying.forEach((reply, i) => expect(reply.body.equals(bodyFor(`stay${i}`, 1000))).toBe(true));
    } finally {
      agent.destroy();
    }
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_node_in_flight'), { timeout: 5_000 }).toBe(0);
  }, 30_000);
});
