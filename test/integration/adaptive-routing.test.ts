import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { pooled, send } from '../helpers/http.js';

interface TenantView {
  tenant: string;
  totalRequests: number;
}
interface WindowEntry {
  window: number;
  /** The tick's wall time, epoch ms: comparable with Date.now() here, on the same machine. */
  at: number;
  score: number | null;
  k: number;
}
interface TenantReply {
  window: number;
  k: number;
  candidates: Record<string, string[]>;
  history: WindowEntry[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tenantsOf = async (adminPort: number): Promise<TenantView[]> =>
  ((await (await fetch(`http://127.0.0.1:${adminPort}/tenants?top=1000`)).json()) as { tenants: TenantView[] }).tenants;

/**
 * A tenant's windows as GET /tenants/<id> reports them, gathered by window number: each read
 * brings the last 32, so reads need not keep pace with windows closing.
 */
function windowsOf(adminPort: number, tenant: string) {
  const windows = new Map<number, WindowEntry>();
  return {
    windows,
    /** The tenant now (undefined until it is tracked); its history joins `windows`. */
    async read(): Promise<TenantReply | undefined> {
      const res = await fetch(`http://127.0.0.1:${adminPort}/tenants/${tenant}`);
      if (res.status === 404) return undefined;
      const reply = (await res.json()) as TenantReply;
      for (const entry of reply.history) windows.set(entry.window, entry);
      return reply;
    },
  };
}

/** Backends that answer their id, hold requests `delayOf` says to, and track their concurrency. */
async function startBackends(count: number, delayOf: (req: IncomingMessage) => number) {
  const concurrency = new Map<string, { now: number; max: number }>();
  const backends: Backend[] = [];
  for (let i = 0; i < count; i++) {
    const id = `n${i}`;
    concurrency.set(id, { now: 0, max: 0 });
    backends.push(
      await startBackend(id, (req: IncomingMessage, res: ServerResponse) => {
        const c = concurrency.get(id)!;
        c.now++;
        c.max = Math.max(c.max, c.now);
        req.resume();
        setTimeout(() => {
          c.now--;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));
        }, delayOf(req));
      }),
    );
  }
  return { backends, concurrency };
}

const config = (backends: Backend[]) => ({
  routes: [{ prefix: '/', cluster: 'c' }],
  clusters: { c: { nodes: backends.map((b) => ({ id: b.id, url: b.url })) } },
});

async function backendOf(port: number, tenant: string): Promise<string> {
  const reply = await send(port, '/', { tenant });
  expect(reply.status).toBe(200);
  return (JSON.parse(reply.text) as { backend: string }).backend;
}

let gateway: GatewayProcess | undefined;
let backends: Backend[] = [];
afterEach(async () => {
  if (gateway) expect(await gateway.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
  gateway = undefined;
  backends = [];
});

describe('adaptive routing', () => {
  it('spreads a slow tenant over k nodes after 3 hot windows, remaps no one else, and steps k back down one per 5 windows', async () => {
    let slowness = 300;
    const started = await startBackends(5, (req) => (req.headers['x-tenant-id'] === 'slow' ? slowness : 0));
    backends = started.backends;
    // A balance factor this large never binds, so every move below is the shard factor's.
    gateway = await startGateway(config(backends), { GATEWAY_THREADS: '2', GATEWAY_SCORE_WINDOW_MS: '400', GATEWAY_BALANCE_FACTOR: '100' });
    const { port, adminPort } = gateway;
    const fast = Array.from({ length: 20 }, (_, i) => `fast-${i}`);
    const sent = new Map<string, number>();
    const count = (tenant: string) => sent.set(tenant, (sent.get(tenant) ?? 0) + 1);

    const home = new Map<string, string>();
    for (const tenant of fast) {
      const nodes = new Set<string>();
      for (let i = 0; i < 3; i++) {
        count(tenant);
        nodes.add(await backendOf(port, tenant));
      }
      expect(nodes.size).toBe(1);
      home.set(tenant, [...nodes][0]!);
    }

    const slow = windowsOf(adminPort, 'slow');
    const replies: { startedAt: number; completedAt: number; backend: string }[] = [];
    let loadOn = true;
    const slowLoad = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (loadOn) {
          const startedAt = Date.now();
          count('slow');
          const backend = await backendOf(port, 'slow');
          replies.push({ startedAt, completedAt: Date.now(), backend });
        }
      }),
    );

    let spread: TenantReply | undefined;
    await expect.poll(async () => (spread = await slow.read())?.k, { timeout: 10_000, interval: 50 }).toBeGreaterThan(1);
    const windows = [...slow.windows.keys()].sort((a, b) => a - b);
    const firstHot = windows.find((w) => slow.windows.get(w)!.score !== null && slow.windows.get(w)!.score! >= 100)!;
    const grown = windows.find((w) => slow.windows.get(w)!.k > 1)!;
    // k moves at the 3rd window in a row above the hot score, straight to ⌈1 + score/200⌉ = 3.
    expect(grown - firstHot).toBe(2);
    expect(slow.windows.get(firstHot + 1)).toMatchObject({ k: 1 });
    const atGrowth = slow.windows.get(grown)!;
    expect(atGrowth.score!).toBeGreaterThan(200);
    expect(atGrowth.score!).toBeLessThan(400);
    expect(atGrowth.k).toBe(3);
    const candidates = spread!.candidates.c!;
    const [own] = candidates;
    expect(candidates).toHaveLength(3);

    // Two more windows of traffic; then the fast tenants again, while the slow one is spread.
    await expect.poll(async () => (await slow.read())?.window, { timeout: 5_000 }).toBeGreaterThanOrEqual(grown + 2);
    const remapped = [];
    for (const tenant of fast) {
      count(tenant);
      if ((await backendOf(port, tenant)) !== home.get(tenant)) remapped.push(tenant);
    }
    expect(remapped).toEqual([]);
    loadOn = false;
    await slowLoad;
    // k was 1 until the growth tick wrote 3 (after reading its time): a reply done before that
    // time went to the tenant's own node; one sent after it, to any of the 3.
    const before = new Set(replies.filter((r) => r.completedAt < atGrowth.at).map((r) => r.backend));
    const after = new Set(replies.filter((r) => r.startedAt > atGrowth.at).map((r) => r.backend));
    expect([...before]).toEqual([own]);
    expect([...after].sort()).toEqual([...candidates].sort());

    // The slowness stops; the tenant keeps sending, fast now. k steps down one node per 5 windows.
    const quietFrom = (await slow.read())!.window;
    slowness = 0;
    let fastLoadOn = true;
    const fastLoad = (async () => {
      while (fastLoadOn) {
        count('slow');
        await backendOf(port, 'slow');
        await sleep(20);
      }
    })();
    await expect.poll(async () => (await slow.read())?.k, { timeout: 15_000, interval: 100 }).toBe(1);
    fastLoadOn = false;
    await fastLoad;
    const down = [...slow.windows.keys()].filter((w) => w > quietFrom).sort((a, b) => a - b);
    // The first window whose score asks for fewer than 3 nodes (≤ 200) starts the streak.
    const cooling = down.find((w) => slow.windows.get(w)!.score! <= 200)!;
    const ks = Array.from({ length: 10 }, (_, i) => slow.windows.get(cooling + i)?.k);
    expect(ks).toEqual([3, 3, 3, 3, 2, 2, 2, 2, 2, 1]);

    // Every request of every tenant was counted once, across both threads.
    await expect
      .poll(async () => Object.fromEntries((await tenantsOf(adminPort)).map((t) => [t.tenant, t.totalRequests])), { timeout: 5_000 })
      .toEqual(Object.fromEntries(sent));
    const metrics = await gateway.metrics();
    expect(metricValue(metrics, 'ringgate_rebalance_events_total')).toBe(3);
    expect(metricValue(metrics, 'ringgate_thread_requests_total', 'thread="0"')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'ringgate_thread_requests_total', 'thread="1"')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'ringgate_node_requests_total')).toBe([...sent.values()].reduce((a, b) => a + b, 0));
  }, 60_000);

  const burst = async (mode: 'adaptive' | 'plain') => {
    const started = await startBackends(4, () => 300);
    backends = started.backends;
    // One thread: two threads can both see room for the last request a node fits, and both send it.
    gateway = await startGateway(config(backends), { GATEWAY_THREADS: '1', GATEWAY_ROUTING_MODE: mode });
    await pooled(16, Array.from({ length: 16 }, () => () => backendOf(gateway!.port, 'busy')));
    return [...started.concurrency.values()].map((c) => c.max).sort((a, b) => b - a);
  };

  it('never lets a node hold more than GATEWAY_BALANCE_FACTOR × the mean: the rest walks on clockwise', async () => {
    // 16 requests held at once over 4 nodes: the last one fits a node holding at most
    // ⌈1.25 × 16 / 4⌉ - 1 = 4 others, so no node ever holds more than 5.
    const maxima = await burst('adaptive');
    expect(maxima[0]).toBeLessThanOrEqual(5);
    expect(maxima.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(16);
  });

  it("takes the mean over the nodes that may serve: another zone's nodes, out of reach, do not lower the bound", async () => {
    const started = await startBackends(4, () => 300);
    backends = started.backends;
    const nodes = backends.map((b, i) => ({ id: b.id, url: b.url, az: i < 2 ? 'az-a' : 'az-b' }));
    gateway = await startGateway({ ...config(backends), clusters: { c: { nodes } } }, { GATEWAY_THREADS: '1', GATEWAY_ZONE: 'az-a' });
    // 8 held at once over the 2 local nodes: the tenant's node takes each that fits under
    // ⌈1.25 × (in flight + 1) / 2⌉, 5 in all. A mean over all 4 nodes put every local node over
    // the bound from the second request on, and the 8 alternated, 4 and 4, as by least connections.
    await pooled(8, Array.from({ length: 8 }, () => () => backendOf(gateway!.port, 'busy')));
    const [a0, a1, b0, b1] = [...started.concurrency.values()].map((c) => c.max);
    expect([b0, b1]).toEqual([0, 0]);
    expect([a0, a1].sort((x, y) => y! - x!)).toEqual([5, 3]);
  });

  it('in plain mode keeps a tenant on its one node however loaded', async () => {
    expect(await burst('plain')).toEqual([16, 0, 0, 0]);
  });
});
