import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send, type Reply } from '../helpers/http.js';
import { jsonBodies, statuses } from '../helpers/raw-http.js';

const LARGE = randomBytes(10 * 1024 * 1024);
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let backend: Backend;
let gateway: GatewayProcess;
const calls = new Map<string, number>();
const held: (() => void)[] = [];
/** Paths whose request the gateway closed before the node answered it. */
const stopped = new Set<string>();

beforeAll(async () => {
  backend = await startBackend('t0', (req, res: ServerResponse) => {
    req.resume();
    const url = req.url ?? '';
    calls.set(url, (calls.get(url) ?? 0) + 1);
    res.on('close', () => {
      if (!res.writableEnded) stopped.add(url);
    });
    held.push(() => {
      if (url.startsWith('/m/fails')) res.socket?.destroy();
      else if (url.startsWith('/m/large')) res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(LARGE);
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url, n: calls.get(url) }));
    });
  });
  gateway = await startGateway(
    {
      routes: [
        { prefix: '/m/', cluster: 'c', multiplex: true },
        { prefix: '/held/', cluster: 'c', multiplex: { holdMs: 3000 } },
        { prefix: '/_ringgate/fault/', cluster: 'c', multiplex: true },
      ],
      clusters: { c: { nodes: [{ id: 't0', url: backend.url }] } },
    },
    // Two threads; an arena slot too small for the large answer; a path that crashes its thread.
    { GATEWAY_THREADS: '2', GATEWAY_MULTIPLEX_MAX_RESPONSE_BYTES: '4096', GATEWAY_FAULT_INJECTION: '1' },
  );
});

afterAll(async () => {
  for (const answer of held.splice(0)) answer();
  expect(await gateway?.stop()).toBe(0);
  await backend.close();
});

const metric = async (name: string, ...labels: string[]): Promise<number> => metricValue(await gateway.metrics(), name, ...labels);
const releaseAll = (): void => {
  for (const answer of held.splice(0)) answer();
};
/** A read of `path` on a connection of its own, whose client can leave by destroying it. */
const openRead = (path: string): Socket => {
  const socket = connect(gateway.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Tenant-ID: a\r\n\r\n`);
  return socket;
};
/** Every one of `count` identical reads is in the gateway: joined on its thread, waiting on the other, or leading. */
const allIn = async (before: number, count: number): Promise<void> => {
  await expect.poll(async () => (await metric('ringgate_multiplexed_requests_total')) - before).toBe(count - 1);
};

describe('multiplexing across threads', () => {
  it('answers 50 identical concurrent GETs spread over 2 threads with one call to the node', async () => {
    const before = await metric('ringgate_multiplexed_requests_total');
    const replies: Promise<Reply>[] = Array.from({ length: 50 }, () => send(gateway.port, '/m/same', { tenant: 'a' }));
    await allIn(before, 50);
    await expect.poll(() => held.length).toBe(1);
    releaseAll();
    const all = await Promise.all(replies);
    expect(all.map((r) => r.status)).toEqual(all.map(() => 200));
    expect(new Set(all.map((r) => r.text)).size).toBe(1);
    expect(calls.get('/m/same')).toBe(1);
    // With 50 connections the kernel gave both threads some: one of them waited on the other's call.
    expect(await metric('ringgate_multiplex_cross_thread_joins_total')).toBeGreaterThanOrEqual(1);
    expect(await metric('ringgate_multiplex_arena_bytes')).toBe(0);
  });

  it("answers a failed call's error to every read of it, on both threads, with one call to the node", async () => {
    const before = await metric('ringgate_multiplexed_requests_total');
    const joinsBefore = await metric('ringgate_multiplex_cross_thread_joins_total');
    const replies = Array.from({ length: 50 }, () => send(gateway.port, '/m/fails', { tenant: 'a' }));
    await allIn(before, 50);
    expect(await metric('ringgate_multiplex_cross_thread_joins_total')).toBeGreaterThan(joinsBefore);
    await expect.poll(() => held.length).toBe(1);
    releaseAll();
    for (const reply of await Promise.all(replies)) expectError(reply, 'ERR_UPSTREAM_CONNECT');
    expect(calls.get('/m/fails')).toBe(1);
  });

  it('sends the other thread to the node on its own when the answer does not fit an arena slot', async () => {
    const before = await metric('ringgate_multiplexed_requests_total');
    const joinsBefore = await metric('ringgate_multiplex_cross_thread_joins_total');
    const replies = Array.from({ length: 20 }, () => send(gateway.port, '/m/large', { tenant: 'a' }));
    await allIn(before, 20);
    const waited = (await metric('ringgate_multiplex_cross_thread_joins_total')) - joinsBefore;
    await expect.poll(() => held.length).toBe(1);
    releaseAll();
    // Each waiter of the other thread calls on its own.
    await expect.poll(() => held.length, { timeout: 10_000 }).toBe(waited);
    releaseAll();
    const all = await Promise.all(replies);
    for (const reply of all) expect(sha(reply.body)).toBe(sha(LARGE));
    expect(calls.get('/m/large')).toBe(1 + waited);
    expect(await metric('ringgate_multiplex_fallbacks_total', 'reason="not_shared"')).toBe(waited);
  });

  it("stops a call once its leader's client and the other thread's waiting ones have all left", async () => {
    // Each connection lands on a thread as the kernel hashes it: followers are opened until one
    // waits on the leader's call from the other thread.
    const path = '/m/everyone-leaves';
    const open = (): Socket => openRead(path);
    const sockets = [open()];
    await expect.poll(() => calls.get(path)).toBe(1);
    const joinsBefore = await metric('ringgate_multiplex_cross_thread_joins_total');
    for (let tries = 0; tries < 40 && (await metric('ringgate_multiplex_cross_thread_joins_total')) === joinsBefore; tries++) {
      const before = await metric('ringgate_multiplexed_requests_total');
      sockets.push(open());
      await expect.poll(async () => (await metric('ringgate_multiplexed_requests_total')) - before).toBe(1);
    }
    expect(await metric('ringgate_multiplex_cross_thread_joins_total')).toBeGreaterThan(joinsBefore);
    for (const socket of sockets) socket.destroy();
    // The node sees its request closed: no call runs on, holding its connection, for nobody.
    await expect.poll(() => stopped.has(path), { timeout: 5_000 }).toBe(true);
    expect(calls.get(path)).toBe(1);
  });

  it("stops a call whose leader left with only a local follower, once a later waiter of the other thread leaves too", async () => {
    const path = '/m/late-waiter-leaves';
    const open = (): Socket => openRead(path);
    /** Opens reads of the call until one joins it on the side asked for; the others leave first. */
    const joinOn = async (crossThread: boolean): Promise<Socket> => {
      for (let tries = 0; tries < 40; tries++) {
        const [joins, cross] = [await metric('ringgate_multiplexed_requests_total'), await metric('ringgate_multiplex_cross_thread_joins_total')];
        const socket = open();
        await expect.poll(async () => (await metric('ringgate_multiplexed_requests_total')) - joins).toBe(1);
        if ((await metric('ringgate_multiplex_cross_thread_joins_total')) > cross === crossThread) return socket;
        // Gone before the next: ended (499), so no longer counted as waiting.
        const ended = await metric('ringgate_http_requests_total');
        socket.destroy();
        await expect.poll(async () => (await metric('ringgate_http_requests_total')) - ended).toBe(1);
      }
      throw new Error(`no read joined ${crossThread ? 'from the other thread' : 'on the leader\'s thread'} in 40 tries`);
    };
    const leader = open();
    await expect.poll(() => calls.get(path)).toBe(1);
    const follower = await joinOn(false);
    // The leader's client leaves while no other thread waits: the call goes on for the follower.
    leader.destroy();
    const waiter = await joinOn(true);
    // The follower's leaving is handled first (it ends, 499): only the waiter's is left to stop the call.
    const ended = await metric('ringgate_http_requests_total');
    follower.destroy();
    await expect.poll(async () => (await metric('ringgate_http_requests_total')) - ended).toBe(1);
    expect(stopped.has(path)).toBe(false);
    waiter.destroy();
    // Nobody is left on either thread: the node sees its request closed.
    await expect.poll(() => stopped.has(path), { timeout: 5_000 }).toBe(true);
    expect(calls.get(path)).toBe(1);
  });

  it('leaves no request of the other thread waiting when the leading thread dies', async () => {
    // The path crashes whichever thread sends it upstream: the leader's thread first, then the
    // waiters' own calls. What matters: every request ends, none waits out the deadline (31 s).
    // Requests of the surviving thread wait on the dead one's call only when they arrive between
    // its lead and its death (7 to 13 of 20 in trials, now and then none): a burst that had none
    // tested nothing, so bursts repeat, at most BURSTS times, until one had some.
    const BURSTS = 5;
    let joins = 0;
    for (let burst = 0; burst < BURSTS && joins === 0; burst++) {
      const joinsBefore = await metric('ringgate_multiplex_cross_thread_joins_total');
      const restartsBefore = await metric('ringgate_thread_restarts_total');
      const sentAt = Date.now();
      await Promise.allSettled(Array.from({ length: 20 }, () => send(gateway.port, '/_ringgate/fault/crash-thread/x', { tenant: 'a' })));
      expect(Date.now() - sentAt).toBeLessThan(15_000);
      await expect.poll(async () => (await metric('ringgate_thread_restarts_total')) - restartsBefore, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
      await expect.poll(async () => metric('ringgate_threads_running'), { timeout: 15_000 }).toBe(2);
      // Without the coordinator abandoning the dead thread's calls, these would have waited out the deadline.
      joins = (await metric('ringgate_multiplex_cross_thread_joins_total')) - joinsBefore;
    }
    expect(joins).toBeGreaterThanOrEqual(1);
  }, 100_000);

  it("sends every follower on both threads to the node on its own when the leader's head cannot be written", async () => {
    // The bad request must lead: it is written whole before the others connect, but under load the
    // other thread may read one of them first. Then the bad request joins that call, gets its 200,
    // and tests nothing: such an attempt is done again on a new path, at most ATTEMPTS times.
    const ATTEMPTS = 4;
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const path = `/held/refused-${attempt}`;
      const before = await metric('ringgate_multiplexed_requests_total');
      const joinsBefore = await metric('ringgate_multiplex_cross_thread_joins_total');
      const refusedBefore = await metric('ringgate_multiplex_fallbacks_total', 'reason="leader_refused"');
      const notSharedBefore = await metric('ringgate_multiplex_fallbacks_total', 'reason="not_shared"');
      // A byte that is not UTF-8 (uWS makes it U+FFFD): this request can never be written to the node.
      const leader = connect(gateway.port, '127.0.0.1');
      let answer = '';
      leader.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      const closed = once(leader, 'close');
      await once(leader, 'connect');
      await new Promise((resolve) => leader.write(Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nX-Tenant-ID: a\r\nConnection: close\r\nX-Note: caf\xe9 ok\r\n\r\n`, 'latin1'), resolve));
      let settled = 0;
      const replies = Array.from({ length: 20 }, () => send(gateway.port, path, { tenant: 'a' }).finally(() => settled++));
      await allIn(before, 21);
      const waited = (await metric('ringgate_multiplex_cross_thread_joins_total')) - joinsBefore;
      // Once the hold (3 s) ends, whatever reaches the node is answered, until every request ended.
      await expect.poll(() => {
        releaseAll();
        return settled;
      }, { timeout: 15_000 }).toBe(20);
      await closed;
      const all = await Promise.all(replies);
      expect(all.map((r) => r.status)).toEqual(all.map(() => 200));
      if (statuses(answer)[0] === 200 && attempt < ATTEMPTS) continue;
      // It led: its head was refused, and all 20, those of the other thread waiting on it included,
      // called the node each on its own.
      expectError({ status: statuses(answer)[0] ?? 0, text: JSON.stringify(jsonBodies(answer)[0] ?? {}) }, 'ERR_BAD_HEADER');
      expect(waited).toBeGreaterThanOrEqual(1);
      expect(calls.get(path)).toBe(20);
      expect((await metric('ringgate_multiplex_fallbacks_total', 'reason="leader_refused"')) - refusedBefore).toBe(20 - waited);
      expect((await metric('ringgate_multiplex_fallbacks_total', 'reason="not_shared"')) - notSharedBefore).toBe(waited);
      return;
    }
  }, 80_000);
});
