import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send, type Reply } from '../helpers/http.js';

const held: { node: string; res: ServerResponse }[] = [];
let backends: Backend[] = [];
let gateway: GatewayProcess;

beforeAll(async () => {
  backends = await Promise.all(
    ['n0', 'n1'].map((id) =>
      startBackend(id, (req, res) => {
        req.resume();
        held.push({ node: id, res });
      }),
    ),
  );
  // One thread: reading a node's count and adding to it are two steps, which threads can race.
  gateway = await startGateway(
    { routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: backends.map((b) => ({ id: b.id, url: b.url })), maxInFlight: 2 } } },
    { GATEWAY_THREADS: '1', GATEWAY_BALANCE_FACTOR: '100' },
  );
});

afterAll(async () => {
  for (const { res } of held.splice(0)) res.end();
  expect(await gateway?.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
});

describe('saturation', () => {
  it('passes a node holding maxInFlight requests by, and answers 503 ERR_UPSTREAM_SATURATED with Retry-After once all are full', async () => {
    const replies: Promise<Reply>[] = [];
    // One tenant: without limits all of it would go to its one node.
    for (let i = 1; i <= 4; i++) {
      replies.push(send(gateway.port, '/x', { tenant: 'busy' }));
      await expect.poll(() => held.length).toBe(i);
    }
    const perNode = (id: string) => held.filter((h) => h.node === id).length;
    expect([perNode('n0'), perNode('n1')]).toEqual([2, 2]);
    const metrics = await gateway.metrics();
    expect(metricValue(metrics, 'ringgate_node_saturation', 'node="n0"')).toBe(1);
    expect(metricValue(metrics, 'ringgate_node_saturation', 'node="n1"')).toBe(1);

    const full = await send(gateway.port, '/x', { tenant: 'busy' });
    expectError(full, 'ERR_UPSTREAM_SATURATED');
    expect(full.headers['retry-after']).toBe('1');

    // A node answers one: the next request takes its place.
    held.shift()!.res.end('done');
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_node_in_flight')).toBe(3);
    const next = send(gateway.port, '/x', { tenant: 'busy' });
    await expect.poll(() => held.length).toBe(4);
    for (const { res } of held.splice(0)) res.end('done');
    expect((await next).status).toBe(200);
    expect((await Promise.all(replies)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });
});
