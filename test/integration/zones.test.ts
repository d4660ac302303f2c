import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend, type Handler } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

// Answers once it read the request's body, as a node that takes an upload does: one answering at
// once could answer an upload before it passed the gateway's body limit, and that answer goes out.
const handler: Handler = (req, res, id) => {
  req.resume().on('end', () => {
    if (req.url === '/health') return void res.writeHead(200, { 'content-length': 2 }).end('ok');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));
  });
};

const MAX_BODY = 100_000;
let backends: Backend[] = [];
let gateway: GatewayProcess;

beforeAll(async () => {
  backends = await Promise.all(['a1', 'a2', 'b1'].map((id) => startBackend(id, handler)));
  gateway = await startGateway(
    {
      routes: [{ prefix: '/', cluster: 'c' }],
      clusters: {
        c: {
          nodes: backends.map((b) => ({ id: b.id, url: b.url, az: b.id.startsWith('a') ? 'az-a' : 'az-b' })),
          healthCheck: { path: '/health', intervalMs: 300, jitterMs: 50, timeoutMs: 200, unhealthyThreshold: 1, healthyThreshold: 1 },
          // No panic mode: with both local nodes dead, the other zone's node is the only one left.
          panicThreshold: 0,
        },
      },
    },
    { GATEWAY_ZONE: 'az-a', GATEWAY_SCORE_WINDOW_MS: '100', GATEWAY_MAX_BODY_BYTES: String(MAX_BODY) },
  );
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
});

const backendOf = async (tenant: string): Promise<string | number> => {
  const reply = await send(gateway.port, '/x', { tenant });
  return reply.status === 200 ? (JSON.parse(reply.text) as { backend: string }).backend : reply.status;
};

describe('zone affinity', () => {
  it('starts the threads on rings with the zone-cost weights, not the config\'s (no keys moved at the first window)', async () => {
    const nodes = backends.map((b) => ({ id: b.id, url: b.url, az: b.id.startsWith('a') ? 'az-a' : 'az-b' }));
    // No window for a minute: what the ring holds now is what the start gave it.
    const fresh = await startGateway({ routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes } } }, { GATEWAY_ZONE: 'az-a', GATEWAY_SCORE_WINDOW_MS: '60000', GATEWAY_THREADS: '1' });
    try {
      const metrics = await fresh.metrics();
      expect(metricValue(metrics, 'ringgate_node_points', 'node="a1"')).toBe(150);
      expect(metricValue(metrics, 'ringgate_node_points', 'node="b1"')).toBe(128);
    } finally {
      expect(await fresh.stop()).toBe(0);
    }
  });

  it('with GATEWAY_ZONE_AFFINITY=off, sends requests to every zone while the local nodes are healthy: the zone costs only weight', async () => {
    const nodes = backends.map((b) => ({ id: b.id, url: b.url, az: b.id.startsWith('a') ? 'az-a' : 'az-b' }));
    const anyZone = await startGateway({ routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes } } }, { GATEWAY_ZONE: 'az-a', GATEWAY_ZONE_AFFINITY: 'off', GATEWAY_THREADS: '1' });
    try {
      const served = new Set<string | number>();
      // b1 owns about 128 / 428 of the ring: 100 tenants all missing it is a chance of 0.7^100.
      for (let i = 0; i < 100; i++) {
        const reply = await send(anyZone.port, '/x', { tenant: `tenant-${i}` });
        served.add(reply.status === 200 ? (JSON.parse(reply.text) as { backend: string }).backend : reply.status);
      }
      expect([...served].sort()).toEqual(['a1', 'a2', 'b1']);
      const metrics = await anyZone.metrics();
      // Still weighed as the other zone (128 points, not 150), and its requests counted as crossings.
      expect(metricValue(metrics, 'ringgate_node_points', 'node="b1"')).toBe(128);
      expect(metricValue(metrics, 'ringgate_zone_crossings_total', 'from="az-a"', 'to="az-b"')).toBeGreaterThan(0);
    } finally {
      expect(await anyZone.stop()).toBe(0);
    }
  });

  it('keeps requests in the gateway\'s zone, and crosses only once the local nodes are down', async () => {
    const tenants = Array.from({ length: 60 }, (_, i) => `tenant-${i}`);
    const local = new Set<string | number>();
    for (const tenant of tenants) local.add(await backendOf(tenant));
    expect([...local].sort()).toEqual(['a1', 'a2']);
    const weights = await gateway.metrics();
    // The other zone's node weighs 0.4 + 0.35 + 0.25 / 2.5 = 0.85 of a local one: 128 points, not 150.
    expect(metricValue(weights, 'ringgate_node_points', 'node="b1"')).toBe(128);
    expect(metricValue(weights, 'ringgate_zone_crossings_total')).toBe(0);

    await Promise.all([backends[0]!.close(), backends[1]!.close()]);
    await expect.poll(async () => backendOf('tenant-0'), { timeout: 10_000 }).toBe('b1');
    for (const tenant of tenants.slice(0, 20)) expect(await backendOf(tenant)).toBe('b1');
    const metrics = await gateway.metrics();
    expect(metricValue(metrics, 'ringgate_zone_crossings_total', 'from="az-a"', 'to="az-b"')).toBeGreaterThanOrEqual(21);
    expect(metricValue(metrics, 'ringgate_zone_crossing_bytes_total', 'from="az-a"', 'to="az-b"')).toBeGreaterThan(21 * 10);
  });

  it('counts the upload bytes that crossed, not those past the body limit, which never left', async () => {
    const bytes = async (): Promise<number> => metricValue(await gateway.metrics(), 'ringgate_zone_crossing_bytes_total', 'from="az-a"', 'to="az-b"');
    const before = await bytes();
    // Chunked, so streamed to b1 (the only node left) until it passes the limit; the rest is read and dropped.
    const reply = await send(gateway.port, '/upload', { tenant: 'tenant-0', method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: Buffer.alloc(1024 * 1024, 'u') });
    expect(reply.status).toBe(413);
    // A read b1 answers, counted after the upload: once its bytes show, the upload's have too.
    expect(await backendOf('tenant-0')).toBe('b1');
    await expect.poll(async () => (await bytes()) - before).toBeGreaterThanOrEqual('{"backend":"b1"}'.length);
    // At most the limit went out with the upload, and its answer was the gateway's own.
    expect((await bytes()) - before).toBeLessThanOrEqual(MAX_BODY + '{"backend":"b1"}'.length);
  });

  it('counts the bytes of an upload that crossed whole, besides its answer', async () => {
    const bytes = async (): Promise<number> => metricValue(await gateway.metrics(), 'ringgate_zone_crossing_bytes_total', 'from="az-a"', 'to="az-b"');
    const before = await bytes();
    const upload = Buffer.alloc(MAX_BODY / 2, 'u');
    const reply = await send(gateway.port, '/upload', { tenant: 'tenant-0', method: 'POST', body: upload });
    expect(JSON.parse(reply.text)).toEqual({ backend: 'b1' });
    await expect.poll(async () => (await bytes()) - before).toBeGreaterThanOrEqual(upload.length + reply.body.length);
    expect((await bytes()) - before).toBeLessThan(upload.length + reply.body.length + 1_000);
  });
});
