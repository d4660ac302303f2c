import { describe, expect, it } from 'vitest';
import { startBackend } from '../helpers/backends.js';
import { metricValue, startGateway } from '../helpers/gateway-process.js';
import { pooled, send } from '../helpers/http.js';

interface TenantsReply {
  window: number;
  live: number;
  untracked: number;
  evictions: number;
  tenants: {
    tenant: string;
    windowRequests: number;
    totalRequests: number;
    totalErrors5xx: number;
    avgLatencyMs: number;
    score: number | null;
    k: number;
    candidates: Record<string, string[]>;
  }[];
}

const tenantsOf = async (adminPort: number, top = 1000): Promise<TenantsReply> =>
  (await (await fetch(`http://127.0.0.1:${adminPort}/tenants?top=${top}`)).json()) as TenantsReply;

describe('shared tenant table', () => {
  it('counts every request of a tenant across 2 threads, evicts beyond GATEWAY_MAX_TENANTS, and shows it on /tenants', async () => {
    const backend = await startBackend('t', (req, res) => {
      req.resume();
      const status = req.url === '/fail' ? 503 : 200;
      setTimeout(() => res.writeHead(status, { 'content-length': 2 }).end('ok'), req.url === '/slow' ? 30 : 0);
    });
    // No breaker: the first 20 answers (10 failed, 10 slow) score the node above its threshold
    // whenever they are judged before the fast ones, and its 503s would then count as this tenant's.
    const gateway = await startGateway(
      { routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'n', url: backend.url }], breaker: { enabled: false } } } },
      { GATEWAY_THREADS: '2', GATEWAY_MAX_TENANTS: '20', GATEWAY_SCORE_WINDOW_MS: '200', GATEWAY_METRICS_TOP_TENANTS: '5' },
    );
    try {
      // 200 requests of one tenant on fresh connections (both threads take some), 10 of them 5xx, 10 slow.
      const paths = Array.from({ length: 200 }, (_, i) => (i < 10 ? '/fail' : i < 20 ? '/slow' : '/ok'));
      await pooled(16, paths.map((path) => () => send(gateway.port, path, { tenant: 'big-tenant' })));
      await expect
        .poll(async () => (await tenantsOf(gateway.adminPort)).tenants.find((t) => t.tenant === 'big-tenant'), { timeout: 5_000 })
        .toMatchObject({ totalRequests: 200, totalErrors5xx: 10 });
      const metrics = await gateway.metrics();
      expect(metricValue(metrics, 'ringgate_thread_requests_total', 'thread="0"')).toBeGreaterThan(0);
      expect(metricValue(metrics, 'ringgate_thread_requests_total', 'thread="1"')).toBeGreaterThan(0);

      // 40 more tenants, then (a window later) 20 more: the table keeps at most 20, the least
      // recently seen go, so exactly the last 20 stay. The tick between moves the coarse clock on,
      // so the 20 are seen later than every one of the 40.
      for (let i = 0; i < 40; i++) expect((await send(gateway.port, '/ok', { tenant: `tenant-${i}` })).status).toBe(200);
      const { window } = await tenantsOf(gateway.adminPort);
      await expect.poll(async () => (await tenantsOf(gateway.adminPort)).window, { timeout: 5_000 }).toBeGreaterThan(window);
      for (let i = 40; i < 60; i++) expect((await send(gateway.port, '/ok', { tenant: `tenant-${i}` })).status).toBe(200);
      await expect
        .poll(async () => (await tenantsOf(gateway.adminPort)).tenants.map((t) => t.tenant).sort(), { timeout: 5_000 })
        .toEqual(Array.from({ length: 20 }, (_, i) => `tenant-${40 + i}`).sort());
      const after = await tenantsOf(gateway.adminPort);
      expect(after.live).toBe(20);
      // An empty `top=` is the default (20), not one tenant.
      expect(((await (await fetch(`http://127.0.0.1:${gateway.adminPort}/tenants?top=`)).json()) as TenantsReply).tenants).toHaveLength(20);
      expect(after.evictions).toBe(41);
      expect(after.untracked).toBe(0);
      const scraped = await gateway.metrics();
      expect(metricValue(scraped, 'ringgate_tenants_live')).toBe(20);
      expect(metricValue(scraped, 'ringgate_tenant_evictions_total')).toBe(41);
      // Score and shard-factor gauges for the top 5 tenants only, whatever the live count.
      const series = (name: string) => scraped.split('\n').filter((line) => line.startsWith(`${name}{`));
      expect(series('ringgate_tenant_load_score')).toHaveLength(5);
      expect(series('ringgate_tenant_shard_factor')).toHaveLength(5);
      expect(series('ringgate_tenant_shard_factor').every((line) => line.endsWith(' 1'))).toBe(true);

      // 5xx answers and latency are counted per tenant: 4 failures, 4 answers that take 30 ms.
      await pooled(4, Array.from({ length: 8 }, (_, i) => () => send(gateway.port, i < 4 ? '/fail' : '/slow', { tenant: 'window-tenant' })));
      await expect
        .poll(async () => (await tenantsOf(gateway.adminPort)).tenants.find((t) => t.tenant === 'window-tenant'), { timeout: 5_000 })
        .toMatchObject({ totalRequests: 8, totalErrors5xx: 4 });
      const windowTenant = (await tenantsOf(gateway.adminPort)).tenants.find((t) => t.tenant === 'window-tenant')!;
      expect(windowTenant.avgLatencyMs).toBeGreaterThanOrEqual(15);
      expect(windowTenant.avgLatencyMs).toBeLessThan(1000);
      // Ranked by score by default: half its requests failed, so it outranks every fast tenant;
      // by=requests ranks by the last window's requests. Each tenant shows its k and candidate node.
      // Its windows have passed: it is idle now, others too.
      await expect
        .poll(async () => (await tenantsOf(gateway.adminPort)).tenants.filter((t) => t.windowRequests > 0), { timeout: 5_000 })
        .toEqual([]);
      const byScore = await tenantsOf(gateway.adminPort, 3);
      expect(byScore.tenants[0]).toMatchObject({ tenant: 'window-tenant', k: expect.any(Number), candidates: { c: ['n'] } });
      expect(byScore.tenants[0]!.score!).toBeGreaterThan(byScore.tenants[1]!.score!);
      send(gateway.port, '/slow', { tenant: 'tenant-59' }).catch(() => {});
      await expect
        .poll(async () => (await (await fetch(`http://127.0.0.1:${gateway.adminPort}/tenants?top=1&by=requests`)).json()) as TenantsReply, { timeout: 5_000 })
        .toMatchObject({ tenants: [{ tenant: 'tenant-59', windowRequests: 1 }] });
      // One tenant alone: 404 when it is not tracked (its history is checked in adaptive-routing.test.ts).
      const unknown = await fetch(`http://127.0.0.1:${gateway.adminPort}/tenants/tenant-0`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: 'no such tenant', code: 'ERR_NO_ROUTE' });
    } finally {
      expect(await gateway.stop()).toBe(0);
      await backend.close();
    }
  });

  it('adds GATEWAY_ERROR_PENALTY_MS per unit of 5xx rate to the score of a tenant whose node answers 5xx', async () => {
    const backend = await startBackend('e', (req, res) => {
      req.resume();
      res.writeHead(req.url === '/fail' ? 503 : 200, { 'content-length': 2 }).end('ok');
    });
    // No breaker: its open circuit would answer the 503s itself, which say nothing of the tenant's load.
    // Decay by count: an idle window leaves a score as it is, so it can be read at leisure.
    const gateway = await startGateway(
      { routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'e', url: backend.url }], breaker: { enabled: false } } } },
      { GATEWAY_THREADS: '1', GATEWAY_SCORE_WINDOW_MS: '100', GATEWAY_ERROR_PENALTY_MS: '50000', GATEWAY_DECAY_MODE: 'count' },
    );
    try {
      // 5 each: fewer than the 20 answers passive health waits for, so the node stays in.
      for (let i = 0; i < 5; i++) {
        expect((await send(gateway.port, '/fail', { tenant: 'failing' })).status).toBe(503);
        expect((await send(gateway.port, '/ok', { tenant: 'fine' })).status).toBe(200);
      }
      const scored = async () =>
        (await tenantsOf(gateway.adminPort)).tenants
          .filter((t) => t.tenant === 'failing' || t.tenant === 'fine')
          .map(({ tenant, totalRequests, totalErrors5xx }) => ({ tenant, totalRequests, totalErrors5xx }))
          .sort((a, b) => a.tenant.localeCompare(b.tenant));
      await expect.poll(scored, { timeout: 5_000 }).toEqual([
        { tenant: 'failing', totalRequests: 5, totalErrors5xx: 5 },
        { tenant: 'fine', totalRequests: 5, totalErrors5xx: 0 },
      ]);
      // Scored once every window that holds its requests has been (both tenants' answers are local and fast).
      await expect.poll(async () => (await tenantsOf(gateway.adminPort)).tenants.filter((t) => t.windowRequests > 0), { timeout: 5_000 }).toEqual([]);
      const tenants = (await tenantsOf(gateway.adminPort)).tenants;
      // Every answer failed: its latency (well under a second) plus the whole penalty of 50,000, not the default 1,000.
      const failing = tenants.find((t) => t.tenant === 'failing')!.score!;
      expect(failing).toBeGreaterThanOrEqual(50_000);
      expect(failing).toBeLessThan(51_000);
      // None failed: its latency alone.
      expect(tenants.find((t) => t.tenant === 'fine')!.score!).toBeLessThan(1_000);
    } finally {
      expect(await gateway.stop()).toBe(0);
      await backend.close();
    }
  });

  it("scores a tenant by what its nodes answered: the gateway's own refusals count as requests, not as latency or 5xx", async () => {
    const backend = await startBackend('s', (req, res) => {
      req.resume();
      setTimeout(() => res.writeHead(200, { 'content-length': 2 }).end('ok'), 100);
    });
    const gateway = await startGateway(
      {
        routes: [
          { prefix: '/limited/', cluster: 'c', rateLimit: { requests: 2, windowMs: 60_000 } },
          { prefix: '/', cluster: 'empty' },
        ],
        clusters: { c: { nodes: [{ id: 's', url: backend.url }] }, empty: { nodes: [] } },
      },
      { GATEWAY_THREADS: '1', GATEWAY_SCORE_WINDOW_MS: '100' },
    );
    try {
      const statuses = [];
      for (let i = 0; i < 22; i++) statuses.push((await send(gateway.port, '/limited/x', { tenant: 'limited' })).status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(2);
      // A cluster with no node answers 503 itself: nothing said of the tenant's load.
      for (let i = 0; i < 10; i++) expect((await send(gateway.port, '/nowhere', { tenant: 'refused' })).status).toBe(503);
      await expect
        .poll(async () => (await tenantsOf(gateway.adminPort)).tenants.filter((t) => t.totalRequests > 0).map(({ tenant, totalRequests, totalErrors5xx }) => ({ tenant, totalRequests, totalErrors5xx })).sort((a, b) => a.tenant.localeCompare(b.tenant)), { timeout: 5_000 })
        .toEqual([
          { tenant: 'limited', totalRequests: 22, totalErrors5xx: 0 },
          { tenant: 'refused', totalRequests: 10, totalErrors5xx: 0 },
        ]);
      const tenants = (await tenantsOf(gateway.adminPort)).tenants;
      // The two answers of 100 ms, not diluted by 20 refusals of a few µs (about 9 ms).
      expect(tenants.find((t) => t.tenant === 'limited')!.avgLatencyMs).toBeGreaterThanOrEqual(90);
      // Counted as the tenant's 5xx, 10 refusals in 10 would score it 1,000 (hot: spread over 5 nodes after 3 windows).
      expect(tenants.find((t) => t.tenant === 'refused')).toMatchObject({ score: null, k: 1 });
    } finally {
      expect(await gateway.stop()).toBe(0);
      await backend.close();
    }
  });
});
