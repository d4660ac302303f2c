import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRawBackend } from '../helpers/backends.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send, type Reply } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

/** A stored answer that fills a client's connection when replayed to it a few times over. */
const FILL_BYTES = 1000 * 1024;
const FILLS = 16;
/** The keyed write's answer: 8 chunks of 4 KiB, sent in one piece, which the gateway reads in one go. */
const CHUNKS = Array.from({ length: 8 }, (_, i) => String(i).repeat(4096));
/**
 * A keyed write's answer far past what the gateway reads before its client pushes back: the
 * rest waits in the node's connection. KEPT fits a stored answer (1 MiB here), TOO_LARGE does not.
 */
const KEPT_BYTES = 512 * 1024;
const TOO_LARGE_BYTES = 2 * 1024 * 1024;

let redisServer: RedisServer;
let node: { url: string; close(): Promise<void> };
/** Another instance on the same Redis: where the client sends its retry once the first has gone. */
let other: GatewayProcess;
/** Calls the node got, by Idempotency-Key. */
const calls = new Map<string, number>();
let config: unknown;
let env: Record<string, string>;

beforeAll(async () => {
  redisServer = await startRedis();
  node = await startRawBackend((socket, head) => {
    const key = /\r\nidempotency-key: *(\S+)/i.exec(head)?.[1];
    // A read (no key) is held unanswered: it keeps its connection busy.
    if (key === undefined) return;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    const sized = key.startsWith('fill-') ? FILL_BYTES : key.startsWith('kept-') ? KEPT_BYTES : key.startsWith('large-') ? TOO_LARGE_BYTES : 0;
    if (sized > 0) {
      socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 201 Created\r\ncontent-length: ${sized}\r\nconnection: close\r\n\r\n`), Buffer.alloc(sized, key[0])]));
      return;
    }
    const body = CHUNKS.map((chunk) => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    socket.end(`HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${body}0\r\n\r\n`);
  });
  config = { routes: [{ prefix: '/orders/', cluster: 'c', idempotency: 'required' }], clusters: { c: { nodes: [{ id: 'n0', url: node.url }] } } };
  env = {
    GATEWAY_SHARED_STATE: 'redis',
    GATEWAY_REDIS_URL: redisServer.url,
    GATEWAY_THREADS: '1',
    GATEWAY_IDEMPOTENCY_MAX_RESPONSE_BYTES: String(1024 * 1024),
    GATEWAY_IDEMPOTENCY_ENTRIES: '16',
  };
  other = await startGateway(config, env);
}, 30_000);

afterAll(async () => {
  if (other !== undefined) expect(await other.stop()).toBe(0);
  await node?.close();
  await redisServer?.kill();
});

const post = (port: number, key: string): Promise<Reply> => send(port, '/orders/new', { method: 'POST', tenant: 'acme', body: '{}', headers: { 'idempotency-key': key } });
const rawPost = (key: string, requestId = 'fill'): string =>
  `POST /orders/new HTTP/1.1\r\nhost: a\r\nx-tenant-id: acme\r\nx-request-id: ${requestId}\r\nidempotency-key: ${key}\r\ncontent-length: 2\r\n\r\n{}`;

/**
 * A client that never reads: the replays of `fill` ahead of the keyed write (16 MB, answered from
 * the gateway's own table at once) fill its connection, so the write's answer pushes back from
 * its first bytes on and the gateway stops reading it there.
 */
function slowClient(port: number, fill: string, key: string): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.pause();
  socket.write(rawPost(fill).repeat(FILLS) + rawPost(key, key));
  return socket;
}

/** The access-log line of the request whose X-Request-Id was `key`. */
function accessLine(gateway: GatewayProcess, key: string): { status?: number; code?: string } | undefined {
  return gateway.logs.map((text) => JSON.parse(text) as { requestId?: string; status?: number; code?: string }).find((entry) => entry.requestId === key);
}

/** A keyed write the drain ended unsent: logged as cut, never at the node, and its retry on the other instance runs it once. */
async function expectUnsentThenRunOnce(gateway: GatewayProcess, key: string): Promise<void> {
  expect(calls.get(key)).toBeUndefined();
  expect(accessLine(gateway, key)).toMatchObject({ status: 499, code: 'ERR_SHUTTING_DOWN' });
  const retried = await post(other.port, key);
  expect(retried.status).toBe(201);
  expect(retried.headers['idempotent-replayed']).toBeUndefined();
  expect(calls.get(key)).toBe(1);
}

describe('a keyed write still open at the drain deadline', () => {
  it.each(['h1', 'undici'])('%s: whose slow client pushed back, keeps the answer the node sent whole: the retry on another instance is replayed, the node ran the write once', async (client) => {
    const gateway = await startGateway(config, { ...env, GATEWAY_DRAIN_MS: '1000', GATEWAY_UPSTREAM_CLIENT: client });
    const fill = `fill-${client}`;
    const key = `slow-${client}`;
    let socket: Socket | undefined;
    try {
      expect((await post(gateway.port, fill)).status).toBe(201);
      // This answer came in one piece: the gateway read it whole before it stopped.
      socket = slowClient(gateway.port, fill, key);
      await expect.poll(() => calls.get(key), { timeout: 5_000 }).toBe(1);
      expect(await gateway.stop('SIGTERM')).toBe(0);
      // The drain's deadline cut the request before its client had the answer.
      expect(accessLine(gateway, key)).toMatchObject({ status: 499, code: 'ERR_SHUTTING_DOWN' });

      const again = await post(other.port, key);
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.text).toBe(CHUNKS.join(''));
      expect(calls.get(key)).toBe(1);
    } finally {
      socket?.destroy();
      await gateway.stop('SIGKILL');
    }
  }, 30_000);

  it.each(['h1', 'undici'])('%s: whose slow client pushed back, reads on the answer it paused, to keep it: the retry on another instance is replayed, the node ran the write once', async (client) => {
    const gateway = await startGateway(config, { ...env, GATEWAY_DRAIN_MS: '1000', GATEWAY_UPSTREAM_CLIENT: client });
    const fill = `fill-paused-${client}`;
    const kept = `kept-${client}`;
    const large = `large-${client}`;
    const sockets: Socket[] = [];
    try {
      expect((await post(gateway.port, fill)).status).toBe(201);
      sockets.push(slowClient(gateway.port, fill, kept), slowClient(gateway.port, fill, large));
      await expect.poll(() => [calls.get(kept), calls.get(large)], { timeout: 5_000 }).toEqual([1, 1]);
      expect(await gateway.stop('SIGTERM')).toBe(0);
      for (const key of [kept, large]) expect(accessLine(gateway, key)).toMatchObject({ status: 499, code: 'ERR_SHUTTING_DOWN' });

      const again = await post(other.port, kept);
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body.equals(Buffer.alloc(KEPT_BYTES, 'k'))).toBe(true);
      expect(calls.get(kept)).toBe(1);
      // Too large to keep: its read stopped there, and its key was let go, as for any answer that size.
      const ranAgain = await post(other.port, large);
      expect(ranAgain.status).toBe(201);
      expect(ranAgain.headers['idempotent-replayed']).toBeUndefined();
      expect(calls.get(large)).toBe(2);
    } finally {
      for (const socket of sockets) socket.destroy();
      await gateway.stop('SIGKILL');
    }
  }, 30_000);

  it.each(['h1', 'undici'])('%s: does not send one whose client left while it waited for a connection: its key is let go, and its retry runs it', async (client) => {
    const gateway = await startGateway(config, { ...env, GATEWAY_DRAIN_MS: '1000', GATEWAY_UPSTREAM_CLIENT: client, GATEWAY_UPSTREAM_POOL_SIZE: '1' });
    const key = `unsent-${client}`;
    const inFlight = async (): Promise<number> => metricValue(await gateway.metrics(), 'ringgate_node_in_flight', 'node="n0"');
    const sockets: Socket[] = [];
    try {
      // The pool's one connection, held by a read the node never answers: the cut frees it.
      sockets.push(connect(gateway.port, '127.0.0.1').on('error', () => {}));
      sockets[0]!.write('GET /orders/busy HTTP/1.1\r\nhost: a\r\nx-tenant-id: acme\r\n\r\n');
      await expect.poll(inFlight, { timeout: 5_000 }).toBe(1);
      const left = connect(gateway.port, '127.0.0.1').on('error', () => {});
      left.write(rawPost(key, key));
      await expect.poll(inFlight, { timeout: 5_000 }).toBe(2);
      // Gone before the drain, which gives the gateway its deadline's second to see it.
      left.destroy();
      expect(await gateway.stop('SIGTERM')).toBe(0);
      await expectUnsentThenRunOnce(gateway, key);
    } finally {
      for (const socket of sockets) socket.destroy();
      await gateway.stop('SIGKILL');
    }
  }, 30_000);

  it.each(['h1', 'undici'])('%s: does not send one whose connection was still opening at the deadline, though it opens in the second after: its key is let go, and its retry runs it once', async (client) => {
    // Not resolved at start-up (no such name yet), nor again within the test: each new connection asks `dns` itself.
    const dns = await startDnsServer({});
    const named = { ...(config as object), clusters: { c: { nodes: [{ id: 'n0', url: `http://slow.test:${new URL(node.url).port}` }] } } };
    const gateway = await startGateway(named, { ...env, GATEWAY_DRAIN_MS: '500', GATEWAY_UPSTREAM_CLIENT: client, GATEWAY_DNS_SERVERS: dns.address, GATEWAY_DNS_TTL_MS: '3600000' });
    const key = `connecting-${client}`;
    let socket: Socket | undefined;
    try {
      dns.answers.set('slow.test', '127.0.0.1');
      dns.holding.add('slow.test');
      const asked = dns.asked.length;
      socket = connect(gateway.port, '127.0.0.1').on('error', () => {});
      socket.write(rawPost(key, key));
      // The write is on a new connection, whose name's query waits at the DNS server: it is still connecting.
      await expect.poll(() => dns.asked.slice(asked).includes('slow.test'), { timeout: 5_000 }).toBe(true);
      const cut = new Promise((resolve) => socket!.once('close', resolve));
      const stopped = gateway.stop('SIGTERM');
      await cut;
      // Past the deadline, the connection could open now, within the second keyed answers are read on.
      dns.release('slow.test');
      expect(await stopped).toBe(0);
      await expectUnsentThenRunOnce(gateway, key);
    } finally {
      socket?.destroy();
      await gateway.stop('SIGKILL');
      await dns.close();
    }
  }, 30_000);
});
