import { afterAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

interface TenantView {
  tenant: string;
  windowRequests: number;
  /** This instance's own requests of the tenant, since first seen. */
  avgLatencyMs: number;
  fleetWindowRequests: number;
  score: number | null;
  k: number;
}
interface TenantsReply {
  window: number;
  fleetInstances: number;
  tenants: TenantView[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tenantsOf = async (gateway: GatewayProcess): Promise<TenantsReply> =>
  (await (await fetch(`http://127.0.0.1:${gateway.adminPort}/tenants?top=1000`)).json()) as TenantsReply;
const viewOf = async (gateway: GatewayProcess, tenant: string): Promise<TenantView | undefined> =>
  (await tenantsOf(gateway)).tenants.find((t) => t.tenant === tenant);
const tenantLoadErrors = async (gateway: GatewayProcess): Promise<number> =>
  metricValue(await gateway.metrics(), 'ringgate_redis_errors_total', 'use="tenant_load"');

/** How long a node holds a request, by path: /slow about a second (jittered, so loops drift apart), /slowish 250 ms, /mild 30 ms. */
const DELAYS: Record<string, () => number> = { '/slow': () => 900 + Math.random() * 200, '/slowish': () => 250, '/mild': () => 30 };

/**
 * `loops` senders of one tenant's requests to one gateway, started `spreadMs` apart so their
 * requests end spread over the windows rather than all in one; every reply's status is kept.
 */
function load(gateway: GatewayProcess, tenant: string, path: string, loops: number, spreadMs: number, pauseMs = 0) {
  const statuses: number[] = [];
  let running = true;
  const all = Array.from({ length: loops }, async (_, i) => {
    await sleep(i * spreadMs);
    while (running) {
      statuses.push((await send(gateway.port, path, { tenant }).catch(() => ({ status: 0 }))).status);
      if (pauseMs > 0) await sleep(pauseMs);
    }
  });
  return {
    statuses,
    stop: async () => {
      running = false;
      await Promise.all(all);
    },
  };
}

let redis: RedisServer | undefined;
let backends: Backend[] = [];
const gateways: GatewayProcess[] = [];
afterAll(async () => {
  for (const gateway of gateways) expect(await gateway.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
  await redis?.kill();
});

describe('tenant load shared through redis (2 instances)', () => {
  it('gives a tenant slow on both instances the same k on both, and fails open while Redis is down', async () => {
    redis = await startRedis();
    for (let i = 0; i < 3; i++) {
      backends.push(
        await startBackend(`n${i}`, (req, res) => {
          req.resume();
          const delay = DELAYS[req.url ?? '']?.() ?? 0;
          setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: `n${i}` })), delay);
        }),
      );
    }
    // No breakers: every node turns slow for some requests on purpose, which is not this test's subject.
    const nodes = backends.map((b) => ({ id: b.id, url: b.url }));
    const config = { routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes, breaker: { enabled: false } } } };
    const env = { GATEWAY_SHARED_STATE: 'redis', GATEWAY_REDIS_URL: redis.url, GATEWAY_SCORE_WINDOW_MS: '200', GATEWAY_THREADS: '1' };
    const [a, b] = [await startGateway(config, env), await startGateway(config, env)] as [GatewayProcess, GatewayProcess];
    gateways.push(a, b);

    // Both tenants are slow through b: ~1 s, ~8 requests a window. Through a, `fleet-hot` takes
    // 250 ms (alone, a score of ~250: k = 3 where b's alone is 5), `cool-here` 30 ms (alone, below
    // the hot score of 100: k = 1). Merged, both score ~800 on both instances: k = 5 everywhere.
    const loads = [
      load(b, 'fleet-hot', '/slow', 40, 25),
      load(b, 'cool-here', '/slow', 40, 25),
      load(a, 'fleet-hot', '/slowish', 2, 125),
      load(a, 'cool-here', '/mild', 1, 0, 70),
    ];
    try {
      const ks = async () => Promise.all([a, b].flatMap((g) => ['fleet-hot', 'cool-here'].map(async (t) => (await viewOf(g, t))?.k)));
      await expect.poll(ks, { timeout: 20_000, interval: 100 }).toEqual([5, 5, 5, 5]);
      const here = (await viewOf(a, 'cool-here'))!;
      // a's own requests of the tenant are fast: its k is the fleet's, not what its own would make it.
      expect(here.avgLatencyMs).toBeLessThan(100);
      expect(here.fleetWindowRequests).toBeGreaterThan(here.windowRequests);
      expect((await viewOf(a, 'fleet-hot'))!.avgLatencyMs).toBeLessThan(400);
      expect((await tenantsOf(a)).fleetInstances).toBe(1);
      expect((await tenantsOf(b)).fleetInstances).toBe(1);
      // The coordinator's counter and the threads' share one series per use on /metrics.
      expect((await a.metrics()).split('\n').filter((line) => line.startsWith('# TYPE ringgate_redis_errors_total'))).toHaveLength(1);

      // Redis goes down: every request is still answered, the windows go on, each call is counted,
      // and within a few windows each instance scores its own sums alone.
      const errorsBefore = await Promise.all([a, b].map(tenantLoadErrors));
      const windowBefore = (await tenantsOf(a)).window;
      await redis.kill();
      await expect.poll(async () => Promise.all([a, b].map(tenantLoadErrors)), { timeout: 10_000 }).toSatisfy(
        (errors: number[]) => errors[0]! > errorsBefore[0]! && errors[1]! > errorsBefore[1]!,
      );
      await expect.poll(async () => [(await tenantsOf(a)).fleetInstances, (await tenantsOf(b)).fleetInstances], { timeout: 10_000 }).toEqual([0, 0]);
      await expect.poll(async () => (await viewOf(a, 'cool-here'))!, { timeout: 10_000 }).toSatisfy((v: TenantView) => v.fleetWindowRequests === v.windowRequests);
      await expect.poll(async () => (await tenantsOf(a)).window, { timeout: 10_000 }).toBeGreaterThanOrEqual(windowBefore + 10);
      for (const gateway of [a, b]) expect((await send(gateway.port, '/', { tenant: 'during-outage' })).status).toBe(200);
      // However many publications failed, a line per 10 s at most (RedisOutage): one, or two if the outage outlasted that on a loaded runner.
      const failureLines = (gateway: GatewayProcess) => gateway.logs.filter((line) => line.includes('redis call failed') && line.includes('"use":"tenant_load"'));
      for (const gateway of [a, b]) {
        expect(failureLines(gateway).length, gateway.logs.join('\n')).toBeGreaterThanOrEqual(1);
        expect(failureLines(gateway).length, gateway.logs.join('\n')).toBeLessThanOrEqual(2);
      }

      // Redis is back (empty): without a restart of either gateway, each publishes again and merges the other's sums.
      await redis.restart();
      await expect.poll(async () => [(await tenantsOf(a)).fleetInstances, (await tenantsOf(b)).fleetInstances], { timeout: 15_000 }).toEqual([1, 1]);
      await expect.poll(async () => (await viewOf(a, 'cool-here'))!, { timeout: 10_000 }).toSatisfy((v: TenantView) => v.fleetWindowRequests > v.windowRequests);
    } finally {
      await Promise.all(loads.map((l) => l.stop()));
    }
    const byStatus = new Map<number, number>();
    for (const status of loads.flatMap((l) => l.statuses)) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    expect([...byStatus.keys()]).toEqual([200]);
    expect(byStatus.get(200)).toBeGreaterThan(100);
  }, 90_000);
});
