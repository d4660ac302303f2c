import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRawBackend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send, type Reply } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

/** A stored answer that fills a client's connection when replayed to it a few times over. */
const FILL_BYTES = 1000 * 1024;
const FILLS = 16;
/** The keyed write's answer: 8 chunks of 4 KiB, sent in one piece, which the gateway reads in one go. */
const CHUNKS = Array.from({ length: 8 }, (_, i) => String(i).repeat(4096));

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
    const key = /\r\nidempotency-key: *(\S+)/i.exec(head)![1]!;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    if (key.startsWith('fill-')) {
      socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 201 Created\r\ncontent-length: ${FILL_BYTES}\r\nconnection: close\r\n\r\n`), Buffer.alloc(FILL_BYTES, 'f')]));
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

describe('a keyed write whose client is slow to read its answer, at the drain deadline', () => {
  it.each(['h1', 'undici'])('%s: keeps the answer the node sent whole: the retry on another instance is replayed, the node ran the write once', async (client) => {
    const gateway = await startGateway(config, { ...env, GATEWAY_DRAIN_MS: '1000', GATEWAY_UPSTREAM_CLIENT: client });
    const socket = connect(gateway.port, '127.0.0.1');
    socket.on('error', () => {});
    try {
      const fill = `fill-${client}`;
      const key = `slow-${client}`;
      expect((await post(gateway.port, fill)).status).toBe(201);
      // Never read: the replays ahead of the write (16 MB, answered from the gateway's own table at
      // once) fill its connection, so the write's answer pushes back from its first chunk on and the
      // gateway stops reading it there, with the rest of it read already.
      socket.pause();
      socket.write(rawPost(fill).repeat(FILLS) + rawPost(key, `slow-reader-${client}`));
      await expect.poll(() => calls.get(key), { timeout: 5_000 }).toBe(1);
      expect(await gateway.stop('SIGTERM')).toBe(0);
      // The drain's deadline cut the request before its client had the answer.
      const lines = gateway.logs.map((text) => JSON.parse(text) as { requestId?: string; status?: number; code?: string });
      expect(lines.find((entry) => entry.requestId === `slow-reader-${client}`)).toMatchObject({ status: 499, code: 'ERR_SHUTTING_DOWN' });

      const again = await post(other.port, key);
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.text).toBe(CHUNKS.join(''));
      expect(calls.get(key)).toBe(1);
    } finally {
      socket.destroy();
      await gateway.stop('SIGKILL');
    }
  }, 30_000);
});
