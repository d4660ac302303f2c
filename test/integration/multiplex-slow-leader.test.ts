import { createHash, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send, type Reply } from '../helpers/http.js';

/** More than the loopback's socket buffers take from a client that never reads: its writes push back. */
const ANSWER = randomBytes(8 * 1024 * 1024);
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let backend: Backend;
let gateway: GatewayProcess;
const calls = new Map<string, number>();
const held: (() => void)[] = [];

beforeAll(async () => {
  backend = await startBackend('s0', (req, res: ServerResponse) => {
    req.resume();
    const url = req.url ?? '';
    calls.set(url, (calls.get(url) ?? 0) + 1);
    held.push(() => res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': ANSWER.length }).end(ANSWER));
  });
  gateway = await startGateway(
    { routes: [{ prefix: '/m/', cluster: 'c', multiplex: true }], clusters: { c: { nodes: [{ id: 's0', url: backend.url }] } } },
    // Two threads, and arena slots that hold the whole answer (few of them: each reserves its size).
    { GATEWAY_THREADS: '2', GATEWAY_MULTIPLEX_MAX_RESPONSE_BYTES: String(16 * 1024 * 1024), GATEWAY_MULTIPLEX_ENTRIES: '8' },
  );
});

afterAll(async () => {
  for (const answer of held.splice(0)) answer();
  expect(await gateway?.stop()).toBe(0);
  await backend?.close();
});

const metric = async (name: string, ...labels: string[]): Promise<number> => metricValue(await gateway.metrics(), name, ...labels);

/** A raw read (with the Host `send` writes: the same key) whose client takes nothing until `resume`. */
function stalledRead(path: string): { socket: Socket; received: Buffer[] } {
  const socket = connect(gateway.port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('error', () => {});
  socket.on('data', (data: Buffer) => received.push(data));
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nX-Tenant-ID: a\r\n\r\n`);
  return { socket, received };
}

describe("a multiplexed call whose leader's client does not read", () => {
  it("answers its followers on both threads at the node's pace; the leader gets the same answer once it reads", async () => {
    const path = '/m/slow-leader';
    const leader = stalledRead(path);
    await expect.poll(() => calls.get(path)).toBe(1);
    // Followers on connections of their own, until at least one joined on the leader's thread and
    // one waits on it from the other (the kernel spreads connections over the threads).
    const followers: Promise<Reply>[] = [];
    let local = 0;
    let cross = 0;
    for (let tries = 0; tries < 40 && (local === 0 || cross === 0); tries++) {
      const [joins, crossJoins] = [await metric('ringgate_multiplexed_requests_total'), await metric('ringgate_multiplex_cross_thread_joins_total')];
      followers.push(send(gateway.port, path, { tenant: 'a' }));
      await expect.poll(async () => (await metric('ringgate_multiplexed_requests_total')) - joins).toBe(1);
      if ((await metric('ringgate_multiplex_cross_thread_joins_total')) > crossJoins) cross++;
      else local++;
    }
    expect([local > 0, cross > 0]).toEqual([true, true]);

    let answered = 0;
    for (const follower of followers) void follower.then(() => answered++);
    for (const answer of held.splice(0)) answer();
    // Every follower has the whole answer while the leader's client still reads nothing. Before,
    // they had it once uWS closed the leader's connection for making no progress (10 s), and the
    // leader had only what its socket buffers held.
    await expect.poll(() => answered, { timeout: 8_000 }).toBe(followers.length);
    for (const reply of await Promise.all(followers)) {
      expect(reply.status).toBe(200);
      expect(sha(reply.body)).toBe(sha(ANSWER));
    }
    expect(calls.get(path)).toBe(1);

    // The leader reads at last: its answer is the node's, whole (its connection was never cut).
    leader.socket.resume();
    const whole = (): Buffer => Buffer.concat(leader.received);
    await expect.poll(() => whole().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(ANSWER.length);
    const text = whole();
    const headEnd = text.indexOf('\r\n\r\n');
    expect(text.subarray(0, headEnd).toString()).toMatch(/^HTTP\/1\.1 200 /);
    expect(text.length - headEnd - 4).toBe(ANSWER.length);
    expect(sha(text.subarray(headEnd + 4))).toBe(sha(ANSWER));
    leader.socket.destroy();
  }, 30_000);

  it('counts a leader whose client leaves while behind its followers as a client that left (499)', async () => {
    const path = '/m/slow-leader-leaves';
    const leader = stalledRead(path);
    await expect.poll(() => calls.get(path)).toBe(1);
    const joins = await metric('ringgate_multiplexed_requests_total');
    const follower = send(gateway.port, path, { tenant: 'a' });
    await expect.poll(async () => (await metric('ringgate_multiplexed_requests_total')) - joins).toBe(1);
    const left = async (): Promise<number> => metric('ringgate_http_requests_total', 'status_class="4xx"');
    const leftBefore = await left();
    let answered: Reply | undefined;
    void follower.then((reply) => (answered = reply));
    for (const answer of held.splice(0)) answer();
    // Well before uWS would close the leader's connection for making no progress (10 s).
    await expect.poll(() => answered, { timeout: 8_000 }).toBeDefined();
    expect(sha(answered!.body)).toBe(sha(ANSWER));
    expect(await left()).toBe(leftBefore);
    leader.socket.destroy();
    await expect.poll(left, { timeout: 5_000 }).toBe(leftBefore + 1);
    // The call is over: the next read of it makes a call of its own.
    const next = send(gateway.port, path, { tenant: 'a' });
    await expect.poll(() => calls.get(path)).toBe(2);
    for (const answer of held.splice(0)) answer();
    expect(sha((await next).body)).toBe(sha(ANSWER));
  }, 30_000);
});
