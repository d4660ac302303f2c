import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { statuses } from '../helpers/raw-http.js';

/** The queue gateways' GATEWAY_UPSTREAM_TIMEOUT_MS. */
const TIMEOUT_MS = 600;
/** The per-try gateways': far longer than their route's perTryTimeoutMs. */
const LONG_TIMEOUT_MS = 20_000;
const PER_TRY_MS = 300;
/**
 * The limit gateways' GATEWAY_MAX_BODY_BYTES: below the body stream's buffer (16 KiB), which a
 * request waiting for a connection fills before uWS is paused, so the body crosses it whatever
 * reads its bytes come in. Past that buffer nothing more of the body is read until a connection
 * takes it: a longer one the gateway cannot know to be over the limit, and the wait's 504 answers it.
 */
const MAX_BODY_BYTES = 10_000;
/**
 * The limit gateways' GATEWAY_UPSTREAM_TIMEOUT_MS: their wait runs out before the over-limit answer
 * goes (the client's 2 s linger), with room for a test to see a request waiting first.
 */
const LIMIT_TIMEOUT_MS = 1_500;

let backend: Backend;
/** Long answers that keep sending a byte now and then: the node is busy, never silent. */
const held = new Set<ServerResponse>();
let ticker: NodeJS.Timeout;
/** The client port of the connection each path came on. */
const portOf = new Map<string, number>();
/** Takes connections and never says a word: an https node whose TLS handshake never ends. */
let mute: Server;
const muted = new Set<Socket>();
/** Its gateway: the connect timeout far past GATEWAY_UPSTREAM_TIMEOUT_MS. */
let muteGateway: GatewayProcess;
const queueGateways = new Map<string, GatewayProcess>();
/** As the queue gateways, with GATEWAY_MAX_BODY_BYTES and a longer wait. */
const limitGateways = new Map<string, GatewayProcess>();
const perTryGateways = new Map<string, GatewayProcess>();

beforeAll(async () => {
  backend = await startBackend('q0', (req, res) => {
    portOf.set(req.url!, req.socket.remotePort!);
    // An early answer: before a byte of the upload is read.
    if (req.url!.includes('/early')) return void res.writeHead(401, { 'content-length': 0 }).end();
    req.resume();
    if (req.url!.includes('/hold')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      held.add(res);
    } else req.on('end', () => res.writeHead(200, { 'content-length': 2 }).end('ok'));
  });
  ticker = setInterval(() => {
    for (const res of held) res.write('.');
  }, 100);
  const config = {
    routes: [
      { prefix: '/per-try/', cluster: 'c', requireTenant: false, retries: { perTryTimeoutMs: PER_TRY_MS } },
      { prefix: '/', cluster: 'c', requireTenant: false },
    ],
    // A breaker that judges from two answers on (and keeps them for a minute): what the node is held to shows in its score.
    clusters: { c: { nodes: [{ id: 'q0', url: backend.url, az: 'az-b' }], breaker: { minRequests: 2, windowMs: 60_000 } } },
  };
  // No zone: nothing crosses.
  const perTryConfig = { ...config, clusters: { c: { nodes: [{ id: 'q0', url: backend.url }], breaker: { minRequests: 2, windowMs: 60_000 } } } };
  mute = createServer((socket) => {
    muted.add(socket);
    socket.on('close', () => muted.delete(socket));
  });
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
  const muteUrl = `https://127.0.0.1:${(mute.address() as { port: number }).port}`;
  const muteConfig = { ...config, clusters: { c: { nodes: [{ id: 'm0', url: muteUrl }], tls: { verify: false }, breaker: { minRequests: 2, windowMs: 60_000 } } } };
  muteGateway = await startGateway(muteConfig, { GATEWAY_THREADS: '1', GATEWAY_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), GATEWAY_UPSTREAM_CONNECT_TIMEOUT_MS: String(LONG_TIMEOUT_MS) });
  for (const client of ['h1', 'undici']) {
    // One connection to the node: while it carries a long answer, every other request waits for it.
    const env = { GATEWAY_UPSTREAM_CLIENT: client, GATEWAY_THREADS: '1', GATEWAY_UPSTREAM_POOL_SIZE: '1' };
    // In another zone than its node: what crosses shows in the zone metrics.
    const queueEnv = { ...env, GATEWAY_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), GATEWAY_ZONE: 'az-a' };
    const [queue, limit, perTry] = await Promise.all([
      startGateway(config, queueEnv),
      startGateway(config, { ...queueEnv, GATEWAY_UPSTREAM_TIMEOUT_MS: String(LIMIT_TIMEOUT_MS), GATEWAY_MAX_BODY_BYTES: String(MAX_BODY_BYTES) }),
      startGateway(perTryConfig, { ...env, GATEWAY_UPSTREAM_TIMEOUT_MS: String(LONG_TIMEOUT_MS) }),
    ]);
    queueGateways.set(client, queue);
    limitGateways.set(client, limit);
    perTryGateways.set(client, perTry);
  }
});

afterAll(async () => {
  clearInterval(ticker);
  for (const res of held) res.end();
  for (const gateway of [muteGateway, ...queueGateways.values(), ...limitGateways.values(), ...perTryGateways.values()]) expect(await gateway.stop()).toBe(0);
  for (const socket of muted) socket.destroy();
  await Promise.all([backend.close(), new Promise((resolve) => mute.close(resolve))]);
});

/** Starts a long answer on the pool's one connection; resolves with its end() once its head came through. */
async function hold(port: number, path: string): Promise<() => Promise<void>> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
  await expect.poll(() => statuses(text)).toEqual([200]);
  const res = [...held].at(-1)!;
  const end = (): void => {
    if (held.delete(res)) res.end();
  };
  // A test that fails before its release leaves the pool's one connection free for the next test.
  onTestFinished(end);
  return async () => {
    end();
    await expect.poll(() => text.endsWith('0\r\n\r\n')).toBe(true);
    socket.destroy();
  };
}

interface NodeView {
  inFlight: number;
  breaker: { state: string; score: number };
}

async function nodeView(gateway: GatewayProcess): Promise<NodeView> {
  const reply = (await (await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/nodes`)).json()) as { nodes: NodeView[] };
  return reply.nodes[0]!;
}

async function inFlight(gateway: GatewayProcess): Promise<number> {
  return (await nodeView(gateway)).inFlight;
}

describe('a request waiting for a connection to its node', () => {
  it.each(['h1', 'undici'])('%s: fails unsent as timed out after GATEWAY_UPSTREAM_TIMEOUT_MS, not held against the node, and the busy connection goes on', async (client) => {
    const gateway = queueGateways.get(client)!;
    const release = await hold(gateway.port, `/hold-${client}`);
    const started = performance.now();
    const queued = await send(gateway.port, `/queued-${client}`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expectError(queued, 'ERR_UPSTREAM_TIMEOUT');
    expect(portOf.has(`/queued-${client}`)).toBe(false);
    await release();
    // The connection that carried the long answer carries the next request.
    expect((await send(gateway.port, `/after-${client}`)).status).toBe(200);
    expect(portOf.get(`/after-${client}`)).toBe(portOf.get(`/hold-${client}`));
    await expect.poll(() => inFlight(gateway)).toBe(0);
    // Two answers judged, no failure among them: the latency term alone (0.4). Counted, the wait's
    // 504 would make it a failure in three (0.6).
    await expect.poll(async () => (await nodeView(gateway)).breaker.score).toBeGreaterThan(0);
    expect((await nodeView(gateway)).breaker).toMatchObject({ state: 'closed', score: 0.4 });
  });

  it.each(['h1', 'undici'])("%s: a client that leaves while it waits costs the node's connection nothing, and crosses no zone", async (client) => {
    const gateway = queueGateways.get(client)!;
    const crossed = async (): Promise<number[]> => {
      const metrics = await gateway.metrics();
      return ['ringgate_zone_crossings_total', 'ringgate_zone_crossing_bytes_total'].map((name) => metricValue(metrics, name, 'from="az-a"', 'to="az-b"'));
    };
    const [crossingsBefore, bytesBefore] = await crossed();
    const release = await hold(gateway.port, `/hold-left-${client}`);
    const leaving = connect(gateway.port, '127.0.0.1');
    const body = 'x'.repeat(5_000);
    leaving.write(`POST /left-${client} HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await expect.poll(() => inFlight(gateway)).toBe(2);
    leaving.destroy();
    await expect.poll(() => inFlight(gateway)).toBe(1);
    await release();
    // The long answer crossed; the request that waited did not, nor its body.
    await expect.poll(async () => (await crossed())[0]! - crossingsBefore!).toBeGreaterThan(0);
    const [crossings, bytes] = await crossed();
    expect(crossings! - crossingsBefore!).toBe(1);
    expect(bytes! - bytesBefore!).toBeLessThan(body.length);
    expect((await send(gateway.port, `/after-left-${client}`)).status).toBe(200);
    expect(portOf.has(`/left-${client}`)).toBe(false);
    expect(portOf.get(`/after-left-${client}`)).toBe(portOf.get(`/hold-left-${client}`));
  });

  it.each(['h1', 'undici'])('%s: an upload past the body limit while it waits is answered 413 once the client is done, not 504 when the wait runs out', async (client) => {
    const gateway = limitGateways.get(client)!;
    const release = await hold(gateway.port, `/hold-large-${client}`);
    const socket = connect(gateway.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    const chunk = 'x'.repeat(MAX_BODY_BYTES + 1);
    // Past the limit, and never finished: the answer waits for the client's linger, past the queue's
    // timeout. Its rest only once the request waits: read apart, as a busy machine may split one write.
    socket.write(`POST /large-${client} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk.slice(0, 6_000)}`);
    await expect.poll(() => inFlight(gateway)).toBe(2);
    socket.write(`${chunk.slice(6_000)}\r\n`);
    await expect.poll(() => statuses(text).length, { timeout: 5_000 }).toBe(1);
    socket.destroy();
    expect(statuses(text)).toEqual([413]);
    expect(text).toContain('ERR_BODY_TOO_LARGE');
    expect(portOf.has(`/large-${client}`)).toBe(false);
    await release();
    await expect.poll(() => inFlight(gateway)).toBe(0);
  });

  it.each([
    ['h1', 'whole', 200],
    ['undici', 'whole', 200],
    ['h1', 'early', 401],
    ['undici', 'early', 401],
  ])('%s: an upload the client sent whole while it waited leaves its connection reading the next request (%s answer)', async (client, answer, status) => {
    const gateway = queueGateways.get(client)!;
    const release = await hold(gateway.port, `/hold-${answer}-${client}`);
    const socket = connect(gateway.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    // One chunk past the body stream's buffer and the body's end, in one read: nobody reads the stream yet.
    const chunk = 'w'.repeat(20_000);
    socket.write(`POST /${answer}-${client} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`);
    await expect.poll(() => inFlight(gateway)).toBe(2);
    await release();
    await expect.poll(() => statuses(text)).toEqual([status]);
    socket.write(`GET /next-${answer}-${client} HTTP/1.1\r\nHost: a\r\n\r\n`);
    // uWS would close a connection it never read again only at its idle timeout (10 s).
    await expect.poll(() => statuses(text), { timeout: 3_000 }).toEqual([status, 200]);
    socket.destroy();
  });

  it.each(['h1', 'undici'])('%s: with perTryTimeoutMs, a streamed upload the client sent whole is timed while it waits, and the wait is not held against the node', async (client) => {
    const gateway = perTryGateways.get(client)!;
    const release = await hold(gateway.port, `/per-try/hold-${client}`);
    const socket = connect(gateway.port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    // Chunked: streamed to the node as it comes, so the pool, not the gateway, would read it.
    socket.write(`POST /per-try/upload-${client} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    // Long before GATEWAY_UPSTREAM_TIMEOUT_MS would end the wait.
    await expect.poll(() => statuses(text).length, { timeout: LONG_TIMEOUT_MS / 2 }).toBe(1);
    socket.destroy();
    expect(statuses(text)).toEqual([504]);
    expect(text).toContain('ERR_UPSTREAM_TIMEOUT');
    expect(portOf.has(`/per-try/upload-${client}`)).toBe(false);
    await release();
    expect((await send(gateway.port, `/per-try/after-${client}`)).status).toBe(200);
    await expect.poll(() => inFlight(gateway)).toBe(0);
    // Two answers judged, no failure among them (as the queue's wait above): counted, the try's 504 would make it 0.6.
    await expect.poll(async () => (await nodeView(gateway)).breaker.score).toBeGreaterThan(0);
    expect((await nodeView(gateway)).breaker).toMatchObject({ state: 'closed', score: 0.4 });
  });
});

describe('a request whose connection is still opening', () => {
  it('times out after GATEWAY_UPSTREAM_TIMEOUT_MS, or perTryTimeoutMs, and counts against its node (undici: connected only once its handshake ended)', async () => {
    for (const path of ['/mute-1', '/per-try/mute-2']) {
      const started = performance.now();
      expectError(await send(muteGateway.port, path), 'ERR_UPSTREAM_TIMEOUT');
      // Long before the connect timeout.
      expect(performance.now() - started).toBeLessThan(LONG_TIMEOUT_MS / 2);
    }
    // Two failures in two: the node's, not a busy pool's.
    await expect.poll(async () => (await nodeView(muteGateway)).breaker.state).toBe('open');
  });
});
