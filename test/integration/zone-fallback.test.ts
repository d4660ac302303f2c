import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type Backend, type Handler } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

const healthy: Handler = (req, res, id) => {
  req.resume();
  if (req.url === '/health') return void res.writeHead(200, { 'content-length': 2 }).end('ok');
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));
};
/** Its checks pass, every request fails: a local dependency is down. */
const failingRequests: Handler = (req, res) => {
  req.resume();
  if (req.url === '/health') return void res.writeHead(200, { 'content-length': 2 }).end('ok');
  res.writeHead(500, { 'content-type': 'text/plain' }).end('local db down');
};
/** Its checks fail, and so does every request. */
const sick: Handler = (req, res) => {
  req.resume();
  res.writeHead(req.url === '/health' ? 503 : 500, { 'content-type': 'text/plain' }).end('sick');
};

let backends: Backend[] = [];
let gateway: GatewayProcess | undefined;

afterEach(async () => {
  if (gateway !== undefined) expect(await gateway.stop()).toBe(0);
  gateway = undefined;
  await Promise.all(backends.map((b) => b.close()));
  backends = [];
});

async function start(handlers: Record<string, Handler>, healthCheck: boolean): Promise<GatewayProcess> {
  backends = await Promise.all(Object.entries(handlers).map(([id, handler]) => startBackend(id, handler)));
  const nodes = backends.map((b) => ({ id: b.id, url: b.url, az: b.id.startsWith('a') ? 'az-a' : 'az-b' }));
  const checks = { path: '/health', intervalMs: 200, jitterMs: 20, timeoutMs: 150, unhealthyThreshold: 1, healthyThreshold: 1 };
  gateway = await startGateway(
    { routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes, ...(healthCheck && { healthCheck: checks }) } } },
    { GATEWAY_ZONE: 'az-a', GATEWAY_SCORE_WINDOW_MS: '100', GATEWAY_THREADS: '1' },
  );
  return gateway;
}

/** The node that answered, or the status and code the gateway answered. */
async function outcome(port: number, tenant: string, method = 'GET'): Promise<string> {
  const reply = await send(port, '/x', { tenant, method });
  if (reply.status === 200) return (JSON.parse(reply.text) as { backend: string }).backend;
  return `${reply.status}`;
}

describe('zone fallback', () => {
  it('lets the other zone serve once every local node fails its requests and its breaker opens, though its checks pass', async () => {
    const { port, logs } = await start({ a1: failingRequests, a2: failingRequests, b1: healthy }, false);
    let i = 0;
    // Breakers alone would answer ERR_CIRCUIT_OPEN for good while b1 stands idle.
    await expect.poll(() => outcome(port, `t-${i++ % 50}`), { timeout: 10_000, interval: 20 }).toBe('b1');
    expect(logs.some((line) => line.includes('zone fallback: local nodes too unhealthy'))).toBe(true);
  });

  it('lets the other zone serve rather than panic over the local nodes, most of them down', async () => {
    const { port, adminPort, logs } = await start({ a1: healthy, a2: sick, a3: sick, b1: healthy }, true);
    const health = async (): Promise<Record<string, number>> => {
      const view = (await (await fetch(`http://127.0.0.1:${adminPort}/v1/nodes`)).json()) as { nodes: { node: string; health: number }[] };
      return Object.fromEntries(view.nodes.map((n) => [n.node, n.health]));
    };
    // Local mean health 1/3, over the fallback's 0.2, but 1 of 3 usable is under the panic threshold.
    await expect.poll(health, { timeout: 10_000 }).toEqual({ a1: 1, a2: 0, a3: 0, b1: 1 });
    await expect.poll(() => logs.some((line) => line.includes('zone fallback: local nodes too unhealthy')), { timeout: 5_000 }).toBe(true);
    // POSTs are not retried: a request panic gave a sick local node fails.
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) seen.push(await outcome(port, `t-${i}`, 'POST'));
    expect(seen.filter((answered) => answered !== 'a1' && answered !== 'b1')).toEqual([]);
  });
});
