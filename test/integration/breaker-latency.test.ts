import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

let backends: Backend[] = [];
let gateway: GatewayProcess;

/** A backend answering each request `ms` after it came. */
const answeringAfter = (id: string, ms: number): Promise<Backend> =>
  startBackend(id, (req, res) => {
    req.resume();
    setTimeout(() => res.writeHead(200, { 'content-length': 2 }).end('ok'), ms);
  });

beforeAll(async () => {
  // q0 answers in 40 ms; s0, slow in itself, in 150 ms: its breaker opens, on the same coordinator
  // tick that judges q0's answers. Each has a fast sibling, whose p99 is its cluster's lower median.
  backends = await Promise.all([answeringAfter('q0', 40), answeringAfter('q1', 1), answeringAfter('s0', 150), answeringAfter('s1', 1)]);
  const nodes = (...ids: string[]) => ids.map((id) => ({ id, url: backends.find((b) => b.id === id)!.url }));
  // Judged on p99 (no failures) against a fixed 50 ms baseline: open at 87.5 ms and more.
  const breaker = { baselineP99Ms: 50, minLatencySamples: 5, minRequests: 5 };
  gateway = await startGateway(
    {
      routes: [
        { prefix: '/slow/', cluster: 's', requireTenant: false, retries: { max: 0 } },
        { prefix: '/', cluster: 'q', requireTenant: false, retries: { max: 0 } },
      ],
      clusters: { q: { nodes: nodes('q0', 'q1'), breaker }, s: { nodes: nodes('s0', 's1'), breaker } },
    },
    // One connection to each node: concurrent requests wait for it in the thread's pool.
    { GATEWAY_THREADS: '1', GATEWAY_UPSTREAM_POOL_SIZE: '1' },
  );
});

afterAll(async () => {
  if (gateway !== undefined) expect(await gateway.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
});

const state = async (node: string): Promise<number> => metricValue(await gateway.metrics(), 'ringgate_breaker_state', `node="${node}"`);

describe("a breaker's latency", () => {
  it("is the node's own, from when it had the request: not the wait for a connection in the thread's pool", async () => {
    // 24 at once, spread by path: about 12 reach q0 through its one connection, the last waiting
    // ~500 ms for it, though q0 answers each in 40 ms.
    const replies = await Promise.all(Array.from({ length: 24 }, (_, i) => send(gateway.port, `/burst-${i}`)));
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
    expect(backends[0]!.seen.length).toBeGreaterThanOrEqual(6);
    for (let i = 0; i < 24; i++) expect((await send(gateway.port, `/slow/${i}`)).status).toBe(200);
    await expect.poll(() => state('s0'), { timeout: 5_000 }).toBe(1);
    expect(await state('q0')).toBe(0);
  });
});
