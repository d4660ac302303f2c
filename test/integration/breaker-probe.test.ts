import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';

/** What p0 does with a request: fail it, hold it, answer its head and hold the rest, or answer it. */
let mode: 'fail' | 'hold' | 'head' | 'ok' = 'fail';
const held: ServerResponse[] = [];
let backend: Backend;
/** Fails every request: a second node whose breaker opens on the same coordinator tick as p0's would. */
let witness: Backend;
let gateway: GatewayProcess;

beforeAll(async () => {
  backend = await startBackend('p0', (req, res) => {
    req.resume();
    if (mode === 'hold') return void held.push(res);
    if (mode === 'head') {
      res.writeHead(200, { 'content-type': 'text/plain' }).write('p0');
      return void held.push(res);
    }
    res.writeHead(mode === 'fail' ? 503 : 200, { 'content-length': 2 }).end('p0');
  });
  witness = await startBackend('w0', (req, res) => {
    req.resume();
    res.writeHead(503, { 'content-length': 2 }).end('w0');
  });
  // One probe token; a node that fails three in a window opens; half-open after half a second.
  const breaker = { minRequests: 3, openMs: 500, probes: 1 };
  gateway = await startGateway(
    {
      routes: [
        { prefix: '/witness/', cluster: 'w', requireTenant: false, retries: { max: 0 } },
        { prefix: '/', cluster: 'c', requireTenant: false, retries: { max: 0 } },
      ],
      clusters: { c: { nodes: [{ id: 'p0', url: backend.url }], breaker }, w: { nodes: [{ id: 'w0', url: witness.url }], breaker } },
    },
    // Lost tokens would come back only after this (and a tick): far past the test.
    { GATEWAY_THREADS: '1', GATEWAY_UPSTREAM_TIMEOUT_MS: '30000' },
  );
});

afterAll(async () => {
  for (const res of held) res.end();
  expect(await gateway?.stop()).toBe(0);
  await Promise.all([backend.close(), witness?.close()]);
});

const state = async (node = 'p0'): Promise<number> => metricValue(await gateway.metrics(), 'ringgate_breaker_state', `node="${node}"`);

describe('a half-open breaker', () => {
  it("takes back the token of a probe whose client left, so the next request probes at once", async () => {
    for (let i = 0; i < 3; i++) expect((await send(gateway.port, `/fail-${i}`)).status).toBe(503);
    await expect.poll(state).toBe(1);
    mode = 'hold';
    await expect.poll(state, { timeout: 5_000 }).toBe(2);
    // The probe: its node holds it, and its client leaves.
    const probe = connect(gateway.port, '127.0.0.1');
    probe.on('error', () => {});
    probe.write('GET /probe HTTP/1.1\r\nHost: a\r\n\r\n');
    await expect.poll(() => held.length).toBe(1);
    // No token left meanwhile: another request finds the node closed to it.
    expectError(await send(gateway.port, '/meanwhile'), 'ERR_CIRCUIT_OPEN');
    probe.destroy();
    mode = 'ok';
    // Its token is back: the next request is the probe, and its answer closes the breaker.
    await expect.poll(async () => (await send(gateway.port, '/next')).status).toBe(200);
    await expect.poll(state).toBe(0);
  });

  it('is closed by a probe whose node answered before its client left, with no other request', async () => {
    mode = 'fail';
    for (let i = 0; i < 3; i++) expect((await send(gateway.port, `/fail-again-${i}`)).status).toBe(503);
    await expect.poll(state).toBe(1);
    mode = 'head';
    await expect.poll(state, { timeout: 5_000 }).toBe(2);
    const probe = connect(gateway.port, '127.0.0.1');
    probe.on('error', () => {});
    let text = '';
    probe.on('data', (d: Buffer) => (text += d.toString('latin1')));
    probe.write('GET /probe-head HTTP/1.1\r\nHost: a\r\n\r\n');
    // The node's head came through: the node answered, in time.
    await expect.poll(() => text).toMatch(/^HTTP\/1\.1 200 /);
    probe.destroy();
    // Counted as a client that left, the probe would say nothing and the breaker would stay half-open until the next request.
    await expect.poll(state, { timeout: 5_000 }).toBe(0);
  });

  it('is closed by a probe as soon as its answer head comes, though the answer streams on', async () => {
    mode = 'fail';
    for (let i = 0; i < 3; i++) expect((await send(gateway.port, `/fail-stream-${i}`)).status).toBe(503);
    await expect.poll(() => state()).toBe(1);
    mode = 'head';
    await expect.poll(() => state(), { timeout: 5_000 }).toBe(2);
    const probe = connect(gateway.port, '127.0.0.1');
    probe.on('error', () => {});
    let text = '';
    probe.on('data', (d: Buffer) => (text += d.toString('latin1')));
    probe.write('GET /probe-stream HTTP/1.1\r\nHost: a\r\n\r\n');
    try {
      await expect.poll(() => text).toMatch(/^HTTP\/1\.1 200 /);
      // The node answers: closed while its answer (an event stream, a long download) goes on.
      await expect.poll(() => state(), { timeout: 5_000 }).toBe(0);
    } finally {
      probe.destroy();
    }
  });

  it('counts nothing of requests sent before it opened that fail after it closed again', async () => {
    mode = 'hold';
    const holding = held.length;
    const early = [0, 1, 2].map((i) => send(gateway.port, `/early-${i}`));
    await expect.poll(() => held.length).toBe(holding + 3);
    mode = 'fail';
    for (let i = 0; i < 3; i++) expect((await send(gateway.port, `/fail-once-more-${i}`)).status).toBe(503);
    await expect.poll(() => state()).toBe(1);
    mode = 'ok';
    await expect.poll(() => state(), { timeout: 5_000 }).toBe(2);
    await expect.poll(async () => (await send(gateway.port, '/recovered')).status).toBe(200);
    await expect.poll(() => state()).toBe(0);
    // The node held those three since before it opened; they fail now, enough to open a fresh window.
    for (const res of held.splice(holding)) res.writeHead(503, { 'content-length': 2 }).end('p0');
    expect((await Promise.all(early)).map((reply) => reply.status)).toEqual([503, 503, 503]);
    // The witness fails three now: once its breaker opened, the tick that judged it judged p0's endings too.
    for (let i = 0; i < 3; i++) expect((await send(gateway.port, `/witness/${i}`)).status).toBe(503);
    await expect.poll(() => state('w0')).toBe(1);
    expect(await state()).toBe(0);
  });
});
