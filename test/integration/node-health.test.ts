import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend, type Handler } from '../helpers/backends.js';
import { steadyTraffic } from '../helpers/traffic.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { HEALTH_SHARE, LOCALITY_SHARE, ZONE_SHARE } from '../../src/routing/node-weight.js';

interface NodeView {
  cluster: string;
  node: string;
  health: number;
  reason: string;
  points: number;
  activeCheck: string;
  slowStart: number;
  inFlight: number;
  requests: number;
}

/** Answers its id; /health answers 200. */
const nodeHandler: Handler = (req, res, id) => {
  req.resume();
  if (req.url === '/health') return void res.writeHead(200, { 'content-length': 2 }).end('ok');
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));
};

let backends: Backend[] = [];
let flaky: Backend[] = [];
let cached: Backend[] = [];
let gateway: GatewayProcess;
let flakyCount = 0;

beforeAll(async () => {
  backends = await Promise.all(['n0', 'n1', 'n2'].map((id) => startBackend(id, nodeHandler)));
  flaky = await Promise.all(
    ['f0', 'f1', 'f2'].map((id) =>
      startBackend(id, (req, res) => {
        req.resume();
        // f1 fails every other request.
        if (id === 'f1' && flakyCount++ % 2 === 0) return void res.writeHead(500, { 'content-length': 4 }).end('fail');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));
      }),
    ),
  );
  cached = await Promise.all(
    ['k0', 'k1'].map((id) =>
      startBackend(id, (req, res) => {
        req.resume();
        // k0 never has what is asked in its cache; k1 always does.
        res.writeHead(200, { 'content-type': 'application/json', 'x-cache': id === 'k0' ? 'MISS from k0' : 'Hit from k1' }).end(JSON.stringify({ backend: id }));
      }),
    ),
  );
  gateway = await startGateway(
    {
      routes: [
        { prefix: '/c/', cluster: 'c' },
        { prefix: '/f/', cluster: 'f' },
        { prefix: '/k/', cluster: 'k' },
      ],
      clusters: {
        c: {
          nodes: backends.map((b) => ({ id: b.id, url: b.url })),
          healthCheck: { path: '/health', intervalMs: 300, jitterMs: 50, timeoutMs: 200, unhealthyThreshold: 2, healthyThreshold: 2 },
          slowStartMs: 2000,
        },
        // Passive health alone: the breaker would take the flaky node out first (breaker.test.ts).
        f: { nodes: flaky.map((b) => ({ id: b.id, url: b.url })), breaker: { enabled: false } },
        k: { nodes: cached.map((b) => ({ id: b.id, url: b.url })), cacheHeader: { name: 'X-Cache' } },
      },
    },
    { GATEWAY_THREADS: '2', GATEWAY_SCORE_WINDOW_MS: '200' },
  );
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await Promise.all([...backends, ...flaky, ...cached].map((b) => b.close()));
});

const nodes = async (): Promise<NodeView[]> =>
  ((await (await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/nodes`)).json()) as { nodes: NodeView[] }).nodes;
const nodeOf = async (id: string): Promise<NodeView> => (await nodes()).find((n) => n.node === id)!;

describe('node health', () => {
  it('takes a killed node out at once on connection failures, and brings it back through slow start', async () => {
    const traffic = steadyTraffic(gateway.port, '/c/x');
    await expect.poll(() => ['n0', 'n1', 'n2'].every((id) => traffic.outcomes.some((o) => o.backend === id)), { timeout: 10_000 }).toBe(true);
    const killed = backends[1]!;
    const port = Number(new URL(killed.url).port);
    await killed.close();
    const failedBefore = traffic.outcomes.filter((o) => o.status !== 200).length;
    await expect.poll(async () => (await nodeOf('n1')).health, { timeout: 10_000 }).toBe(0);
    const down = await nodeOf('n1');
    expect(['connect-failures', 'check-failing']).toContain(down.reason);
    expect(down.points).toBe(0);
    // A refused connection takes the node out at once: only requests already sent there failed,
    // at most one per traffic loop.
    const failed = traffic.outcomes.filter((o) => o.status !== 200);
    expect(failed.length - failedBefore).toBeLessThanOrEqual(4);
    expect(failed.every((o) => o.status === 502)).toBe(true);

    // From here on no request reaches it and none fails.
    const requestsWhenDown = down.requests;
    const mark = traffic.outcomes.length;
    await expect.poll(() => traffic.outcomes.length - mark, { timeout: 10_000 }).toBeGreaterThan(200);
    expect(traffic.outcomes.slice(mark).filter((o) => o.status !== 200)).toEqual([]);
    expect((await nodeOf('n1')).requests).toBe(requestsWhenDown);

    // Back on its port: two passing checks, then 20% of its weight, stepping up to all of it.
    // Its passive success ratio may still hold the failures it gave as it went down: an EMA that
    // halves what is left each window of 20+ requests (node-health.ts), and under slow start that
    // can take more windows than this wait to reach exactly 1. So: healthy again, and usable.
    backends[1] = await startBackend('n1', nodeHandler, {}, port);
    await expect.poll(async () => (await nodeOf('n1')).reason, { timeout: 10_000 }).toBe('healthy');
    expect((await nodeOf('n1')).health).toBeGreaterThan(0.9);
    const points: number[] = [];
    await expect
      .poll(
        async () => {
          const { points: now } = await nodeOf('n1');
          if (points.at(-1) !== now) points.push(now);
          return now;
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe(150);
    expect(points[0]).toBeLessThanOrEqual(60);
    expect(points).toEqual([...points].sort((a, b) => a - b));
    await expect.poll(async () => (await nodeOf('n1')).requests, { timeout: 10_000 }).toBeGreaterThan(requestsWhenDown);
    await traffic.stop();
    const metrics = await gateway.metrics();
    // 150 points (node-weight.ts): ceil((health × 0.4 + 0.35 + 0.25) × 150) = 150 needs this much health.
    expect(metricValue(metrics, 'ringgate_node_health', 'node="n1"')).toBeGreaterThan((149 / 150 - LOCALITY_SHARE - ZONE_SHARE) / HEALTH_SHARE);
    expect(metricValue(metrics, 'ringgate_node_check_passing', 'node="n1"')).toBe(1);
    expect(metricValue(metrics, 'ringgate_ring_rebuilds_total')).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('takes a node answering 50% 5xx out of the ring, leaving the others serving', async () => {
    const traffic = steadyTraffic(gateway.port, '/f/x');
    await expect.poll(async () => (await nodeOf('f1')).reason, { timeout: 15_000 }).toBe('5xx-rate');
    const out = await nodeOf('f1');
    expect(out.health).toBeLessThan(0.3);
    expect(out.points).toBe(0);
    const mark = traffic.outcomes.length;
    await expect.poll(() => traffic.outcomes.length - mark, { timeout: 10_000 }).toBeGreaterThan(200);
    await traffic.stop();
    const after = traffic.outcomes.slice(mark);
    expect(after.filter((o) => o.status !== 200)).toEqual([]);
    expect(after.some((o) => o.backend === 'f1')).toBe(false);
    expect(new Set(after.map((o) => o.backend))).toEqual(new Set(['f0', 'f2']));
  }, 40_000);

  it('weighs nodes by the cache hit rate their x-cache answers report', async () => {
    const traffic = steadyTraffic(gateway.port, '/k/x');
    // weight = 0.4 × health + 0.35 × cache locality + 0.25: a node that always misses keeps 0.65 of its points.
    await expect.poll(async () => (await nodeOf('k0')).points, { timeout: 10_000 }).toBe(98);
    await traffic.stop();
    expect((await nodeOf('k1')).points).toBe(150);
    expect(traffic.outcomes.every((o) => o.status === 200)).toBe(true);
  });
});
