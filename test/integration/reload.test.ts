import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { steadyTraffic } from '../helpers/traffic.js';
import { metricValue, startGateway, writeConfig, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';

let backends: Backend[] = [];
let gateway: GatewayProcess;
let configPath: string;

const configOf = (ids: string[], extra: Record<string, unknown> = {}) => ({
  routes: [{ prefix: '/', cluster: 'c' }],
  clusters: { c: { nodes: ids.map((id) => ({ id, url: backends.find((b) => b.id === id)!.url })) } },
  ...extra,
});

beforeAll(async () => {
  backends = await Promise.all(['n0', 'n1', 'n2'].map((id) => startBackend(id)));
  configPath = writeConfig(configOf(['n0', 'n1']));
  gateway = await startGateway(null, { GATEWAY_CONFIG: configPath, GATEWAY_THREADS: '2' });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
});

interface NodeView {
  node: string;
  points: number;
}
const nodeIds = async (): Promise<string[]> =>
  ((await (await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/nodes`)).json()) as { nodes: NodeView[] }).nodes.map((n) => n.node).sort();

describe('config reload', () => {
  it('adds and removes nodes on SIGHUP under load with no failed request, and keeps the running config when the new one is bad', async () => {
    const traffic = steadyTraffic(gateway.port, '/x');
    try {
      await expect.poll(() => traffic.outcomes.length, { timeout: 10_000 }).toBeGreaterThan(100);

      // A node joins: no restart, and it gets requests (ramping up through slow start).
      writeFileSync(configPath, JSON.stringify(configOf(['n0', 'n1', 'n2'])));
      gateway.child.kill('SIGHUP');
      await expect.poll(nodeIds, { timeout: 10_000 }).toEqual(['n0', 'n1', 'n2']);
      await expect.poll(() => traffic.outcomes.some((o) => o.backend === 'n2'), { timeout: 10_000 }).toBe(true);

      // A node leaves: once the reload is applied, nothing more reaches it.
      writeFileSync(configPath, JSON.stringify(configOf(['n1', 'n2'])));
      gateway.child.kill('SIGHUP');
      await expect.poll(nodeIds, { timeout: 10_000 }).toEqual(['n1', 'n2']);
      // Threads swap between requests; one in flight at the swap may still finish on n0.
      await expect.poll(() => traffic.outcomes.length, { timeout: 10_000 }).toBeGreaterThan(traffic.outcomes.length + 20);
      const seenByN0 = backends[0]!.seen.length;
      const mark = traffic.outcomes.length;
      await expect.poll(() => traffic.outcomes.length, { timeout: 10_000 }).toBeGreaterThan(mark + 200);
      expect(backends[0]!.seen.length).toBe(seenByN0);

      // A bad config is refused whole: the running one keeps serving.
      writeFileSync(configPath, JSON.stringify({ ...configOf(['n1']), routes: [{ prefix: '/', cluster: 'missing' }] }));
      gateway.child.kill('SIGHUP');
      await expect.poll(() => gateway.logs.some((line) => line.includes('config reload failed') && line.includes('routes[0].cluster')), { timeout: 10_000 }).toBe(true);
      const afterBad = traffic.outcomes.length;
      await expect.poll(() => traffic.outcomes.length, { timeout: 10_000 }).toBeGreaterThan(afterBad + 100);
      expect(await nodeIds()).toEqual(['n1', 'n2']);
    } finally {
      await traffic.stop();
    }
    expect(traffic.outcomes.filter((o) => o.status !== 200)).toEqual([]);
    const metrics = await gateway.metrics();
    expect(metricValue(metrics, 'ringgate_config_reloads_total', 'result="ok"')).toBe(2);
    expect(metricValue(metrics, 'ringgate_config_reloads_total', 'result="failed"')).toBe(1);
  }, 60_000);

  it('reloads on POST /v1/reload, naming the settings that need a restart, and answers a bad config with ERR_RELOAD_FAILED', async () => {
    writeFileSync(configPath, JSON.stringify(configOf(['n1', 'n2'], { gateway: { upstreamPoolSize: 7, balanceFactor: 2 } })));
    const reply = await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ reloaded: true, needRestart: ['upstreamPoolSize'] });
    writeFileSync(configPath, '{"routes": []');
    const bad = await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' });
    const text = await bad.text();
    expectError({ status: bad.status, text }, 'ERR_RELOAD_FAILED');
    expect(JSON.parse(text).error).toContain('is not valid JSON');
    expect((await send(gateway.port, '/x', { tenant: 'after' })).status).toBe(200);
  });
});
