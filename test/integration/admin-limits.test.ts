import { Buffer } from 'node:buffer';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { jsonBodies, rawExchange, statuses } from '../helpers/raw-http.js';

const TOKEN = 'test-admin-token-0123456789';
let gateway: GatewayProcess;

beforeAll(async () => {
  gateway = await startGateway({ routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'n0', url: 'http://127.0.0.1:1' }] } } }, { GATEWAY_ADMIN_TOKEN: TOKEN });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
});

/** A push declaring `declared` bytes, of which `sent` are sent now and the rest never. */
function heldPush(declared: number, sent: number): Socket {
  const socket = connect(gateway.adminPort, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`POST /v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: ${declared}\r\n\r\n`);
  socket.write(Buffer.alloc(sent, 0x20));
  return socket;
}

describe("the admin server's own limits", () => {
  it('holds at most 32 MiB of pushes being read at once: one past them is answered 503 with Retry-After, and taken once they go', async () => {
    // A valid push, 8 KiB with the blanks after it.
    const probe = () =>
      send(gateway.adminPort, '/v1/nodes', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ timestamp: Date.now(), nodes: [{ id: 'n0', health: 1 }] }).padEnd(8 * 1024),
      });
    // Four of the largest pushes, each 1 KiB short of its end: 4 KiB left of the 32 MiB.
    const held = Array.from({ length: 4 }, () => heldPush(8 * 1024 * 1024, 8 * 1024 * 1024 - 1024));
    try {
      await expect.poll(async () => (await probe()).status, { timeout: 10_000 }).toBe(503);
      const refused = await probe();
      expectError(refused, 'ERR_PUSH_BUFFER_FULL');
      expect(refused.headers['retry-after']).toBe('1');
    } finally {
      for (const socket of held) socket.destroy();
    }
    await expect.poll(async () => (await probe()).status, { timeout: 10_000 }).toBe(200);
  });

  it('answers what node:http refuses itself as JSON with a code: a malformed head, one over 16 KiB, one not whole within 10 s', async () => {
    const answerOf = async (payload: string, waitMs: number): Promise<{ status: number; text: string }> => {
      const { text } = await rawExchange(gateway.adminPort, payload, waitMs);
      return { status: statuses(text)[0] ?? 0, text: JSON.stringify(jsonBodies(text)[0] ?? null) };
    };
    // At once: the slow one waits for the admin server's 10 s head deadline.
    const [malformed, large, slow] = await Promise.all([
      answerOf('GET /metrics HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n', 5_000),
      answerOf(`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`, 5_000),
      answerOf('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n', 15_000),
    ]);
    expectError(malformed, 'ERR_MALFORMED_REQUEST');
    expectError(large, 'ERR_HEADERS_TOO_LARGE');
    expectError(slow, 'ERR_REQUEST_TIMEOUT');
  });
});
