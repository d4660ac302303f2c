import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';

let backends: Backend[] = [];
let gateway: GatewayProcess;
/** Answers the held request to x: until then it runs, on a node the pushes below remove. */
let releaseHeld: () => void = () => {};
const held = new Promise<void>((resolve) => (releaseHeld = resolve));

beforeAll(async () => {
  backends = await Promise.all(
    ['x', 'y', 'z', 'p1', 'p2', 'p3', 'p4', 'p5'].map((id) =>
      startBackend(id, (req, res) => {
        req.resume();
        const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));
        if (req.url === '/held') void held.then(answer);
        else answer();
      }),
    ),
  );
  // Room for two nodes: each new one needs the slot of one removed before.
  gateway = await startGateway(
    { routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'x', url: backends[0]!.url }] } } },
    { GATEWAY_MAX_NODES: '2', GATEWAY_SCORE_WINDOW_MS: '100' },
  );
});

afterAll(async () => {
  releaseHeld();
  expect(await gateway?.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
});

const urlOf = (id: string): string => backends.find((b) => b.id === id)!.url;

async function replace(out: string, into: string): Promise<{ status: number; text: string }> {
  const reply = await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/nodes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ timestamp: Date.now(), nodes: [{ id: into, cluster: 'c', url: urlOf(into) }, { id: out, cluster: 'c', remove: true }] }),
  });
  return { status: reply.status, text: await reply.text() };
}

interface NodeView {
  node: string;
  requests: number;
}
const nodes = async (): Promise<NodeView[]> => ((await (await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/nodes`)).json()) as { nodes: NodeView[] }).nodes;

describe('node table slots', () => {
  it('go back to new nodes once no request that could reach the removed ones runs, and never before', async () => {
    const running = send(gateway.port, '/held');
    await expect.poll(() => backends[0]!.seen.some((seen) => seen.url === '/held'), { timeout: 5_000 }).toBe(true);
    // y replaces x: the second slot.
    expect((await replace('x', 'y')).status).toBe(200);
    // Windows pass (slots are freed at windows), the threads told of the push long since.
    const window = async (): Promise<number> => ((await (await fetch(`http://127.0.0.1:${gateway.adminPort}/tenants`)).json()) as { window: number }).window;
    const pushedAt = await window();
    await expect.poll(window, { timeout: 5_000, interval: 50 }).toBeGreaterThanOrEqual(pushedAt + 3);
    // z replacing y needs x's slot, which the request still running on x holds.
    const refused = await replace('y', 'z');
    expectError(refused, 'ERR_BAD_PUSH');
    expect(JSON.parse(refused.text).error).toContain('exceed GATEWAY_MAX_NODES (2)');
    expect((await nodes()).map((n) => n.node)).toEqual(['y']);
    // A controller's pushes are no config reloads: alerts on failed reloads must not fire on them.
    const reloads = await gateway.metrics();
    expect(metricValue(reloads, 'ringgate_config_reloads_total', 'result="failed"')).toBe(0);
    expect(metricValue(reloads, 'ringgate_config_reloads_total', 'result="ok"')).toBe(0);
    expect(gateway.logs.some((line) => line.includes('control-plane push refused'))).toBe(true);
    // x answers its last request: the request accepted before x left is not lost.
    releaseHeld();
    const answered = await running;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.text)).toEqual({ backend: 'x' });
    // The slot is freed at a window after the threads said they run no older request.
    await expect.poll(async () => (await replace('y', 'z')).status, { timeout: 5_000, interval: 100 }).toBe(200);
    // z took x's slot with fresh counters: x's request is not z's.
    expect(await nodes()).toMatchObject([{ node: 'z', requests: 0 }]);
    expect(JSON.parse((await send(gateway.port, '/after')).text)).toEqual({ backend: 'z' });

    // A controller replacing pods under new names goes on for good, two slots or not.
    let last = 'z';
    for (const next of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      await expect.poll(async () => (await replace(last, next)).status, { timeout: 5_000, interval: 100 }).toBe(200);
      expect(JSON.parse((await send(gateway.port, `/after-${next}`)).text)).toEqual({ backend: next });
      last = next;
    }
  });
});
