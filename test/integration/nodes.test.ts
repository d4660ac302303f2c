import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startBackend } from '../helpers/backends.js';
import { metricValue, startGateway } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

describe('shared node table', () => {
  it('shows the requests each node holds, across threads, and returns to 0 when they finish or abort', async () => {
    const held: ServerResponse[] = [];
    const hold = await startBackend('hold', (req, res) => {
      req.resume();
      held.push(res);
    });
    const quick = await startBackend('quick', (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': 2 }).end('ok');
    });
    const gateway = await startGateway(
      {
        routes: [
          { prefix: '/hold/', cluster: 'held', requireTenant: false },
          { prefix: '/', cluster: 'fast', requireTenant: false },
        ],
        clusters: { held: { nodes: [{ id: 'hold', url: hold.url }] }, fast: { nodes: [{ id: 'quick', url: quick.url }] } },
      },
      { GATEWAY_THREADS: '2' },
    );
    try {
      const replies = Array.from({ length: 6 }, (_, i) => send(gateway.port, `/hold/${i}`));
      await expect.poll(() => held.length).toBe(6);
      for (let i = 0; i < 3; i++) expect((await send(gateway.port, `/q${i}`)).status).toBe(200);
      let metrics = await gateway.metrics();
      expect(metricValue(metrics, 'ringgate_node_in_flight', 'node="hold"')).toBe(6);
      expect(metricValue(metrics, 'ringgate_node_in_flight', 'node="quick"')).toBe(0);
      expect(metricValue(metrics, 'ringgate_thread_requests_total', 'thread="1"') + metricValue(metrics, 'ringgate_thread_requests_total', 'thread="0"')).toBe(3);

      for (const res of held.splice(0, 3)) res.writeHead(200, { 'content-length': 4 }).end('done');
      for (const res of held.splice(0)) res.destroy(); // the node resets the other three
      const statuses = (await Promise.all(replies)).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 502, 502, 502]);
      metrics = await gateway.metrics();
      expect(metricValue(metrics, 'ringgate_node_in_flight', 'node="hold"')).toBe(0);
    } finally {
      expect(await gateway.stop()).toBe(0);
      await Promise.all([hold.close(), quick.close()]);
    }
  });
});
