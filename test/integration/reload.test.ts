import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { steadyTraffic } from '../helpers/traffic.js';
import { metricValue, startGateway, writeConfig, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';

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
      // Its ramp republishes the ring: events the dashboard lists at the time they happened.
      interface Rebalance { kind: string; at: number }
      const ringEvents = async () =>
        ((await (await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/dashboard`)).json()) as { rebalances: { recent: Rebalance[] } }).rebalances.recent.filter((e) => e.kind === 'ring');
      await expect.poll(async () => (await ringEvents()).length, { timeout: 10_000 }).toBeGreaterThan(0);
      for (const { at } of await ringEvents()) expect(Math.abs(Date.now() - at)).toBeLessThan(60_000);

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
    // Demo backends start with the process only: one asked for by a reload is named, and not started.
    const withDemo = configOf(['n1', 'n2'], { gateway: { upstreamPoolSize: 7, balanceFactor: 2 } });
    writeFileSync(configPath, JSON.stringify({ ...withDemo, clusters: { c: { ...withDemo.clusters.c, demoBackends: ['a'] } } }));
    const reply = await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toEqual({ reloaded: true, needRestart: ['upstreamPoolSize', 'clusters.c.demoBackends'] });
    expect(await nodeIds()).toEqual(['n1', 'n2']);
    writeFileSync(configPath, '{"routes": []');
    const bad = await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' });
    const text = await bad.text();
    expectError({ status: bad.status, text }, 'ERR_RELOAD_FAILED');
    expect(JSON.parse(text).error).toContain('is not valid JSON');
    expect((await send(gateway.port, '/x', { tenant: 'after' })).status).toBe(200);
    // A node url the URL parser throws on is a field error like any other, not the end of the gateway.
    writeFileSync(configPath, JSON.stringify(configOf(['n1'], { clusters: { c: { nodes: [{ id: 'n1', url: 'http//10.0.0.5:8080' }] } } })));
    const unparsable = await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' });
    const unparsableText = await unparsable.text();
    expectError({ status: unparsable.status, text: unparsableText }, 'ERR_RELOAD_FAILED');
    expect(JSON.parse(unparsableText).error).toContain('clusters.c.nodes[0].url = "http//10.0.0.5:8080"');
    expect((await send(gateway.port, '/x', { tenant: 'after-url' })).status).toBe(200);
  });
});

const accepting = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });

describe('what a reload adds', () => {
  it('adds a cluster named as what every object inherits, and routes to it', async () => {
    // Looked up in the running config as an inherited name, it once threw and failed the reload.
    const withConstructor = {
      routes: [{ prefix: '/', cluster: 'c' }, { prefix: '/k/', cluster: 'constructor' }],
      clusters: { ...configOf(['n0']).clusters, constructor: { nodes: [{ id: 'k2', url: backends[2]!.url }] } },
    };
    writeFileSync(configPath, JSON.stringify(withConstructor));
    const reply = await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' });
    expect(await reply.json()).toEqual({ reloaded: true, needRestart: [] });
    const answer = await send(gateway.port, '/k/x', { tenant: 't' });
    expect([answer.status, JSON.parse(answer.text).backend]).toEqual([200, 'n2']);
    writeFileSync(configPath, JSON.stringify(configOf(['n0'])));
    expect((await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' })).status).toBe(200);
  });
});

describe('what a reload removes', () => {
  it('leaves no ring gauge behind for a cluster it removed', async () => {
    const ringOf = async (cluster: string) => (await gateway.metrics()).split('\n').filter((line) => line.startsWith(`ringgate_ring_points{cluster="${cluster}"}`));
    const withExtra = { routes: [{ prefix: '/', cluster: 'c' }, { prefix: '/extra/', cluster: 'extra' }], clusters: { ...configOf(['n0']).clusters, extra: { nodes: [{ id: 'x2', url: backends[2]!.url }] } } };
    writeFileSync(configPath, JSON.stringify(withExtra));
    expect((await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' })).status).toBe(200);
    expect(await ringOf('extra')).toHaveLength(1);
    writeFileSync(configPath, JSON.stringify(configOf(['n0'])));
    expect((await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' })).status).toBe(200);
    expect(await ringOf('extra')).toEqual([]);
    expect(await ringOf('c')).toHaveLength(1);
  });
});

describe('what a reload changes', () => {
  it("gives a cluster whose maxInFlight it raised as many connections to each node", async () => {
    const release: (() => void)[] = [];
    const holding = await startBackend('m0', (req, res) => {
      req.resume();
      release.push(() => res.end('done'));
    });
    const configWith = (maxInFlight: number) => ({ routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { maxInFlight, nodes: [{ id: 'm0', url: holding.url }] } } });
    const config = writeConfig(configWith(1));
    const capped = await startGateway(null, { GATEWAY_CONFIG: config, GATEWAY_THREADS: '1' });
    try {
      // The pool to the node opens once, at its first request, sized for one.
      const first = send(capped.port, '/first', { tenant: 'a' });
      await expect.poll(() => release.length).toBe(1);
      release.shift()!();
      expect((await first).status).toBe(200);
      writeFileSync(config, JSON.stringify(configWith(3)));
      expect((await fetch(`http://127.0.0.1:${capped.adminPort}/v1/reload`, { method: 'POST' })).status).toBe(200);
      const three = [0, 1, 2].map((i) => send(capped.port, `/raised-${i}`, { tenant: 'a' }));
      // All three at the node at once; a pool kept at one connection would hold two back.
      await expect.poll(() => release.length).toBe(3);
      for (const end of release.splice(0)) end();
      expect((await Promise.all(three)).map((reply) => reply.status)).toEqual([200, 200, 200]);
    } finally {
      for (const end of release.splice(0)) end();
      expect(await capped.stop()).toBe(0);
      await holding.close();
    }
  });
});

describe('reloads asked for while the gateway starts or stops', () => {
  const fresh = () => ({ GATEWAY_CONFIG: writeConfig(configOf(['n0'])), GATEWAY_THREADS: '2' });
  // The admin port listens before the acceptor threads do: in between, the gateway is starting.
  it('refuses POST /v1/reload until it listens, then reloads', async () => {
    const adminPort = await freePort();
    let up = false;
    const starting = startGateway(null, { ...fresh(), GATEWAY_ADMIN_PORT: String(adminPort) }).finally(() => (up = true));
    const answers: { status: number; error: string }[] = [];
    while (!up) {
      const reply = await fetch(`http://127.0.0.1:${adminPort}/v1/reload`, { method: 'POST' }).catch(() => null);
      if (reply !== null) answers.push({ status: reply.status, error: String(((await reply.json()) as { error?: string }).error) });
    }
    const started = await starting;
    try {
      for (const answer of answers) if (answer.status !== 200) expect(answer).toEqual({ status: 400, error: expect.stringContaining('the gateway is still starting') });
      expect((await fetch(`http://127.0.0.1:${started.adminPort}/v1/reload`, { method: 'POST' })).status).toBe(200);
    } finally {
      expect(await started.stop()).toBe(0);
    }
  });

  it('refuses POST /v1/reload once it drains: what stopping stopped stays stopped', async () => {
    const release: (() => void)[] = [];
    const holding = await startBackend('h0', (req, res) => {
      req.resume();
      release.push(() => res.end('late'));
    });
    const config = writeConfig({ routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'h0', url: holding.url }] } } });
    const draining = await startGateway(null, { GATEWAY_CONFIG: config, GATEWAY_THREADS: '1', GATEWAY_DRAIN_MS: '10000' });
    try {
      const open = send(draining.port, '/x', { tenant: 'held' });
      await expect.poll(() => release.length).toBe(1);
      expect((await fetch(`http://127.0.0.1:${draining.adminPort}/v1/reload`, { method: 'POST' })).status).toBe(200);
      const exited = draining.stop();
      await expect.poll(() => draining.logs.some((line) => (JSON.parse(line) as { msg: string }).msg === 'draining')).toBe(true);
      const reply = await fetch(`http://127.0.0.1:${draining.adminPort}/v1/reload`, { method: 'POST' });
      expect({ status: reply.status, error: ((await reply.json()) as { error: string }).error }).toEqual({ status: 400, error: expect.stringContaining('the gateway is stopping') });
      // Refused, but what was counted stays counted: a counter read during the drain never goes back.
      expect(metricValue(await draining.metrics(), 'ringgate_config_reloads_total', 'result="ok"')).toBe(1);
      release.shift()!();
      expect((await open).status).toBe(200);
      expect(await exited).toBe(0);
    } finally {
      await draining.stop();
      await holding.close();
    }
  });

  it('keeps a SIGHUP sent while it starts, and reloads once it listens', async () => {
    const adminPort = await freePort();
    let child: ChildProcess | null = null;
    const starting = startGateway(null, { ...fresh(), GATEWAY_ADMIN_PORT: String(adminPort) }, 20_000, undefined, (spawned) => (child = spawned));
    await expect.poll(() => accepting(adminPort), { timeout: 10_000, interval: 5 }).toBe(true);
    child!.kill('SIGHUP');
    const started = await starting;
    try {
      await expect.poll(() => started.logs.some((line) => (JSON.parse(line) as { msg: string }).msg.startsWith('config reloaded'))).toBe(true);
    } finally {
      expect(await started.stop()).toBe(0);
    }
  });
});
