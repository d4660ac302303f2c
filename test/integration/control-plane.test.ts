import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';

const TOKEN = 'test-admin-token-0123456789';
let backends: Backend[] = [];
let gateway: GatewayProcess;

beforeAll(async () => {
  backends = await Promise.all(['n0', 'n1', 'n2'].map((id) => startBackend(id)));
  gateway = await startGateway(
    // Cluster d starts empty: a push may add a node named as one of c's.
    { routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: backends.map((b) => ({ id: b.id, url: b.url })) }, d: { nodes: [] } } },
    { GATEWAY_ADMIN_TOKEN: TOKEN, GATEWAY_CONTROL_TTL_MS: '1500', GATEWAY_SCORE_WINDOW_MS: '100' },
  );
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
});

interface NodesReply {
  routingMode: string;
  nodes: { node: string; cluster: string; health: number; reason: string; points: number }[];
}

const nodes = async (): Promise<NodesReply> => (await (await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/nodes`)).json()) as NodesReply;

async function push(body: unknown, token: string | null = TOKEN): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const reply = await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/nodes`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: reply.status, text: await reply.text() };
}

const backendOf = async (tenant: string): Promise<string> => (JSON.parse((await send(gateway.port, '/x', { tenant })).text) as { backend: string }).backend;

describe('control plane', () => {
  it('refuses pushes without the right bearer token', async () => {
    expectError(await push({ timestamp: Date.now(), nodes: [{ id: 'n0', health: 1 }] }, null), 'ERR_ADMIN_UNAUTHORIZED');
    expectError(await push({ timestamp: Date.now(), nodes: [{ id: 'n0', health: 1 }] }, 'wrong-token-0123456789-xx'), 'ERR_ADMIN_UNAUTHORIZED');
  });

  it('answers HEAD on its reads, and 405 with Allow to a method a path does not take', async () => {
    const head = await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`http://127.0.0.1:${gateway.adminPort}/dashboard`, { method: 'HEAD' })).status).toBe(200);
    for (const [method, path, allow] of [
      ['POST', '/metrics', 'GET, HEAD'],
      ['GET', '/v1/reload', 'POST'],
      ['DELETE', '/v1/nodes', 'GET, HEAD, POST'],
      ['PUT', '/tenants/acme', 'GET, HEAD'],
    ] as const) {
      const reply = await fetch(`http://127.0.0.1:${gateway.adminPort}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
      expect(reply.headers.get('allow')).toBe(allow);
      expectError({ status: reply.status, text: await reply.text() }, 'ERR_METHOD_NOT_ALLOWED');
    }
    // A path the admin server does not have stays 404, whatever the method.
    expectError(await send(gateway.adminPort, '/dashboard/nope'), 'ERR_NO_ROUTE');
    expectError(await send(gateway.adminPort, '/nope', { method: 'POST' }), 'ERR_NO_ROUTE');
  });

  it('refuses bad bodies naming the field and value, future and out-of-order pushes, and applies nothing of a refused push', async () => {
    const bad = await push({ timestamp: Date.now(), nodes: [{ id: 'n0', health: 2 }] });
    expectError(bad, 'ERR_BAD_PUSH');
    expect(JSON.parse(bad.text).error).toMatch(/^nodes\.0\.health = 2: /);
    // The value as config errors show theirs; a long one cut, an unknown key named with its own.
    for (const [body, message] of [
      [{ timestamp: Date.now(), nodes: [{ id: 'n0', health: 'x'.repeat(100_000) }] }, `nodes.0.health = "${'x'.repeat(64)}"… (100000 characters): Invalid input: expected number, received string`],
      [{ timestamp: Date.now(), nodes: [{ id: 'n0', helth: 0.5 }] }, 'nodes.0.helth = 0.5: unknown key'],
      [{ timestamp: Date.now(), nodes: [] }, 'nodes = []: Too small: expected array to have >=1 items'],
      [{ nodes: [{ id: 'n0' }] }, 'timestamp = missing: Invalid input: expected number, received undefined'],
      [[1, 2], '(body) = [1,2]: Invalid input: expected object, received array'],
      [{ timestamp: Date.now(), nodes: [{ id: 'n0', zone: 'b' }] }, 'nodes.0.zone = "b": only a node added by this push (with a url) takes a zone'],
      [{ timestamp: Date.now(), nodes: [0, 1].map(() => ({ id: 'n5', cluster: 'c', url: 'http://127.0.0.1:1' })) }, 'nodes.1.id = "n5": added twice'],
    ] as const) {
      const refused = await push(body);
      expectError(refused, 'ERR_BAD_PUSH');
      expect(JSON.parse(refused.text).error).toBe(message);
    }
    // However deep or wide, a value is shown in a line.
    for (const nested of ['['.repeat(10_000) + ']'.repeat(10_000), JSON.stringify(Array.from({ length: 100_000 }, (_, i) => ({ id: `n${i}` })))]) {
      const refused = await push(`{"timestamp": 1, "nodes": [${nested}]}`);
      expectError(refused, 'ERR_BAD_PUSH');
      expect(JSON.parse(refused.text).error).toMatch(/^nodes\.0 = \[.{10,120}…\]+: Invalid input: expected object, received array$/);
    }
    expectError(await push('{not json'), 'ERR_BAD_PUSH');
    // Past 8 MiB: read to its end and dropped, then answered (no reset while the client still sends).
    const huge = await push(`{"timestamp": 1, "pad": "${'x'.repeat(9 * 1024 * 1024)}"}`);
    expectError(huge, 'ERR_BAD_PUSH');
    expect(JSON.parse(huge.text).error).toBe('(body): over 8388608 bytes');
    // The first entry is fine, the second names no node: neither is applied.
    const half = await push({ timestamp: Date.now(), nodes: [{ id: 'n0', health: 0.05 }, { id: 'nope', health: 1 }] });
    expectError(half, 'ERR_BAD_PUSH');
    expect(JSON.parse(half.text).error).toMatch(/^nodes\.1\.id = "nope"/);
    expect((await nodes()).nodes.find((n) => n.node === 'n0')).toMatchObject({ health: 1, reason: 'healthy' });
    expectError(await push({ timestamp: Date.now() + 10_000, nodes: [{ id: 'n0', health: 1 }] }), 'ERR_PUSH_FROM_FUTURE');
    expect((await push({ timestamp: Date.now(), nodes: [{ id: 'n0', health: 1 }] })).status).toBe(200);
    expectError(await push({ timestamp: Date.now() - 60_000, nodes: [{ id: 'n0', health: 1 }] }), 'ERR_PUSH_OUT_OF_ORDER');
  });

  it('routes by pushed health, falls back to least connections when pushes stop, and back to the ring when they resume', async () => {
    const tenants = Array.from({ length: 40 }, (_, i) => `tenant-${i}`);
    // n1 pushed unhealthy: off the ring, and no tenant lands on it.
    expect((await push({ timestamp: Date.now(), nodes: [{ id: 'n1', health: 0.1 }, { id: 'n0', cacheHitRate: 0.9 }] })).text).toBe('{"applied":2}');
    expect((await nodes()).nodes.find((n) => n.node === 'n1')).toMatchObject({ reason: 'pushed', points: 0 });
    // The controller keeps pushing while the tenants are sent, so n1's pushed health stays fresh.
    for (const [i, tenant] of tenants.entries()) {
      if (i % 5 === 4) expect((await push({ timestamp: Date.now(), nodes: [{ id: 'n1', health: 0.1 }] })).status).toBe(200);
      expect(await backendOf(tenant)).not.toBe('n1');
    }
    expect((await nodes()).routingMode).toBe('ring');

    // No push for the TTL: least connections over healthy nodes, tenant affinity suspended.
    await expect.poll(async () => (await nodes()).routingMode, { timeout: 5_000 }).toBe('least-connections');
    const metrics = await gateway.metrics();
    expect(metricValue(metrics, 'ringgate_routing_mode', 'mode="least-connections"')).toBe(1);
    expect(metricValue(metrics, 'ringgate_routing_mode', 'mode="ring"')).toBe(0);
    const spread = new Set<string>();
    for (let i = 0; i < 12; i++) spread.add(await backendOf('one-tenant'));
    expect(spread.size).toBeGreaterThan(1);

    // Pushes resume: the ring again, and a tenant stays on one node.
    expect((await push({ timestamp: Date.now(), nodes: [{ id: 'n1', health: 1 }] })).status).toBe(200);
    expect((await nodes()).routingMode).toBe('ring');
    const home = new Set<string>();
    for (let i = 0; i < 12; i++) {
      if (i === 6) expect((await push({ timestamp: Date.now(), nodes: [{ id: 'n1', health: 1 }] })).status).toBe(200);
      home.add(await backendOf('one-tenant'));
    }
    expect(home.size).toBe(1);
  });
});

describe('nodes added by a push', () => {
  it('join the running config at once, through slow start, and are refused when malformed, adding nothing', async () => {
    const added = await startBackend('n9');
    try {
      // A url's password is not shown back.
      const bad = await push({ timestamp: Date.now(), nodes: [{ id: 'n9', cluster: 'c', url: 'ftp://ops:s3cret@x' }] });
      expectError(bad, 'ERR_BAD_PUSH');
      expect(JSON.parse(bad.text).error).toMatch(/^nodes\.0\.url = "ftp:\/\/ops:\*\*\*@x": /);
      expectError(await push({ timestamp: Date.now(), nodes: [{ id: 'n9', url: added.url }] }), 'ERR_BAD_PUSH'); // no cluster
      // A cluster name every object has: not a cluster, nor a crash in the reload path.
      const inherited = await push({ timestamp: Date.now(), nodes: [{ id: 'n9', cluster: 'constructor', url: added.url }] });
      expectError(inherited, 'ERR_BAD_PUSH');
      expect(JSON.parse(inherited.text).error).toContain('clusters.constructor: no such cluster');
      // A valid new node beside an entry naming no node: neither is applied.
      const half = await push({ timestamp: Date.now(), nodes: [{ id: 'n9', cluster: 'c', url: added.url }, { id: 'typo', health: 1 }] });
      expectError(half, 'ERR_BAD_PUSH');
      expect(JSON.parse(half.text).error).toMatch(/^nodes\.1\.id = "typo"/);
      expect((await nodes()).nodes.map((n) => n.node)).not.toContain('n9');
      // An entry that names one node before the push and two after it: nothing is applied.
      const ambiguous = await push({ timestamp: Date.now(), nodes: [{ id: 'n1', cluster: 'd', url: added.url }, { id: 'n1', health: 0.9 }] });
      expectError(ambiguous, 'ERR_BAD_PUSH');
      expect(JSON.parse(ambiguous.text).error).toBe('nodes.1.id = "n1": several clusters have a node with this id: name its cluster');
      expect((await nodes()).nodes.filter((n) => n.node === 'n1')).toHaveLength(1);

      // Nodes of two clusters, in turn: each cluster gets its own, in order.
      const ok = await push({
        timestamp: Date.now(),
        nodes: [
          { id: 'n9', cluster: 'c', url: added.url, zone: 'az-x', health: 1 },
          { id: 'n8', cluster: 'd', url: added.url },
          { id: 'n7', cluster: 'c', url: added.url },
        ],
      });
      expect(ok.text).toBe('{"applied":3}');
      const clusterOf = async (id: string) => (await nodes()).nodes.find((n) => n.node === id)?.cluster;
      expect([await clusterOf('n9'), await clusterOf('n8'), await clusterOf('n7')]).toEqual(['c', 'd', 'c']);
      const n9 = (await nodes()).nodes.find((n) => n.node === 'n9')!;
      expect(n9).toMatchObject({ reason: 'pushed' });
      expect(n9.points).toBeGreaterThan(0);
      expect(n9.points).toBeLessThan(150); // slow start
      await expect.poll(async () => {
        for (let i = 0; i < 40; i++) if ((await backendOf(`joiner-${i}`)) === 'n9') return true;
        return false;
      }, { timeout: 10_000 }).toBe(true);
      // Sent again as it was (a retry after a lost answer): nothing added, its other fields applied.
      const again = await push({ timestamp: Date.now(), nodes: [{ id: 'n9', cluster: 'c', url: added.url, zone: 'az-x', health: 0.9 }] });
      expect(again.text).toBe('{"applied":1}');
      expect((await nodes()).nodes.filter((n) => n.node === 'n9')).toMatchObject([{ health: 0.9, reason: 'pushed' }]);
      const moved = await push({ timestamp: Date.now(), nodes: [{ id: 'n9', cluster: 'c', url: 'http://127.0.0.1:1' }] });
      expectError(moved, 'ERR_BAD_PUSH');
      expect(JSON.parse(moved.text).error).toMatch(/^nodes\.0\.url = "http:\/\/127\.0\.0\.1:1": node "n9" exists with another url/);

      // Removals: refused whole when malformed, applied in one step with the rest when not.
      for (const [entry, message] of [
        [{ id: 'n9', remove: true }, /^nodes\.1\.cluster = missing: a node removed by a push needs its cluster/],
        [{ id: 'n9', cluster: 'c', remove: true, health: 0.5 }, /^nodes\.1\.health = 0\.5: a node removed by a push takes nothing else/],
        [{ id: 'n9', cluster: 'nope', remove: true }, /^nodes\.1\.cluster = "nope": no such cluster/],
        [{ id: 'n0', cluster: 'c', health: 0.7 }, /^nodes\.1\.id = "n0": cluster "c" has no node with this id/],
      ] as const) {
        const refused = await push({ timestamp: Date.now(), nodes: [{ id: 'n0', cluster: 'c', remove: true }, entry] });
        expectError(refused, 'ERR_BAD_PUSH');
        expect(JSON.parse(refused.text).error).toMatch(message);
      }
      const both = await push({ timestamp: Date.now(), nodes: [{ id: 'n7', cluster: 'c', remove: true }, { id: 'n7', cluster: 'c', url: added.url }] });
      expect(JSON.parse(both.text).error).toMatch(/^nodes\.0\.id = "n7": removed and added by the same push/);
      expect((await nodes()).nodes.map((n) => n.node).sort()).toEqual(['n0', 'n1', 'n2', 'n7', 'n8', 'n9']);
      // n9, n8 and n7 are one backend (it answers as n9).
      const removed = await push({
        timestamp: Date.now(),
        nodes: [{ id: 'n9', cluster: 'c', remove: true }, { id: 'n8', cluster: 'd', remove: true }, { id: 'n7', cluster: 'c', remove: true }, { id: 'n0', health: 1 }],
      });
      expect(removed.text).toBe('{"applied":4}');
      expect((await nodes()).nodes.map((n) => n.node).sort()).toEqual(['n0', 'n1', 'n2']);
      for (let i = 0; i < 40; i++) expect(await backendOf(`joiner-${i}`)).not.toBe('n9');
      // Sent again: nothing left to remove, and no error.
      expect((await push({ timestamp: Date.now(), nodes: [{ id: 'n9', cluster: 'c', remove: true }] })).text).toBe('{"applied":1}');
      // Added back under the same id: it is the node it was, in the slot it had.
      expect((await push({ timestamp: Date.now(), nodes: [{ id: 'n9', cluster: 'c', url: added.url }] })).status).toBe(200);
      expect((await nodes()).nodes.filter((n) => n.node === 'n9')).toHaveLength(1);
      expect((await push({ timestamp: Date.now(), nodes: [{ id: 'n9', cluster: 'c', remove: true }, { id: 'n7', cluster: 'c', remove: true }] })).text).toBe('{"applied":2}');
      expect((await nodes()).nodes.map((n) => n.node).sort()).toEqual(['n0', 'n1', 'n2']);
    } finally {
      await added.close();
    }
  });
});

describe('a pushed health score', () => {
  it("never puts back a node the gateway cannot reach: failing checks win over the controller's word", async () => {
    const gone = await startBackend('n1');
    await gone.close(); // its port refuses from now on
    const checked = await startGateway(
      {
        routes: [{ prefix: '/', cluster: 'c' }],
        clusters: {
          c: {
            nodes: [{ id: 'n0', url: backends[0]!.url }, { id: 'n1', url: gone.url }],
            healthCheck: { path: '/', intervalMs: 200, jitterMs: 20, timeoutMs: 150, unhealthyThreshold: 1, healthyThreshold: 1 },
          },
        },
      },
      { GATEWAY_ADMIN_TOKEN: TOKEN, GATEWAY_SCORE_WINDOW_MS: '100', GATEWAY_THREADS: '1' },
    );
    try {
      const n1 = async () => ((await (await fetch(`http://127.0.0.1:${checked.adminPort}/v1/nodes`)).json()) as NodesReply).nodes.find((n) => n.node === 'n1');
      await expect.poll(async () => (await n1())?.health, { timeout: 5_000 }).toBe(0);
      // The controller sees the pod Ready and says so.
      const pushed = await fetch(`http://127.0.0.1:${checked.adminPort}/v1/nodes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ timestamp: Date.now(), nodes: [{ id: 'n0', health: 1 }, { id: 'n1', health: 1 }] }),
      });
      expect(pushed.status).toBe(200);
      expect(await n1()).toMatchObject({ health: 0 });
      expect(['check-failing', 'connect-failures']).toContain((await n1())!.reason);
      // POSTs are not retried: one given to n1 would fail.
      for (let i = 0; i < 20; i++) expect((await send(checked.port, '/x', { tenant: `t-${i}`, method: 'POST' })).status).toBe(200);
    } finally {
      expect(await checked.stop()).toBe(0);
    }
  });
});

describe('the admin server beyond loopback', () => {
  const config = () => ({ routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'n0', url: backends[0]!.url }] } } });
  const call = async (port: number, path: string, init: RequestInit = {}) => {
    const reply = await fetch(`http://127.0.0.1:${port}${path}`, init);
    return { status: reply.status, text: await reply.text() };
  };

  it('refuses every call, reads too, without a token set', async () => {
    const open = await startGateway(config(), { GATEWAY_ADMIN_HOST: '0.0.0.0', GATEWAY_THREADS: '1' });
    try {
      expectError(await call(open.adminPort, '/v1/nodes', { method: 'POST', body: JSON.stringify({ timestamp: Date.now(), nodes: [{ id: 'n0' }] }) }), 'ERR_ADMIN_FORBIDDEN');
      for (const path of ['/metrics', '/v1/nodes', '/tenants']) expectError(await call(open.adminPort, path), 'ERR_ADMIN_FORBIDDEN');
    } finally {
      expect(await open.stop()).toBe(0);
    }
  });

  it('answers reads only with the token set, while on loopback they need none', async () => {
    const open = await startGateway(config(), { GATEWAY_ADMIN_HOST: '0.0.0.0', GATEWAY_THREADS: '1', GATEWAY_ADMIN_TOKEN: TOKEN });
    try {
      expectError(await call(open.adminPort, '/metrics'), 'ERR_ADMIN_UNAUTHORIZED');
      expectError(await call(open.adminPort, '/tenants', { headers: { authorization: 'Bearer wrong-token-0123456789' } }), 'ERR_ADMIN_UNAUTHORIZED');
      const metrics = await call(open.adminPort, '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(metrics.status).toBe(200);
      expect(metrics.text).toContain('ringgate_threads_running');
      expect((await call(open.adminPort, '/v1/nodes', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      expect(await open.stop()).toBe(0);
    }
    // The file's main gateway listens on loopback (with a token): reads are open there.
    expect((await call(gateway.adminPort, '/metrics')).status).toBe(200);
    // But not to a page whose name was rebound to loopback, unless it has the token (401: the dashboard asks for it).
    expectError(await send(gateway.adminPort, '/tenants', { headers: { host: 'attacker.example' } }), 'ERR_ADMIN_UNAUTHORIZED');
    expect((await send(gateway.adminPort, '/tenants', { headers: { host: 'attacker.example', authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });
});

describe('the admin server on loopback without a token', () => {
  it('refuses a web page: one whose name was rebound to loopback, and a cross-site POST', async () => {
    const open = await startGateway({ routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'n0', url: backends[0]!.url }] } } }, { GATEWAY_THREADS: '1' });
    try {
      const push = JSON.stringify({ timestamp: Date.now(), nodes: [{ id: 'n0', health: 0.5 }] });
      const post = { method: 'POST', body: push, headers: { 'content-type': 'application/json' } };
      // A rebinding page's requests name its own host.
      expectError(await send(open.adminPort, '/v1/dashboard', { headers: { host: 'attacker.example' } }), 'ERR_ADMIN_FORBIDDEN');
      // A page elsewhere posting to the admin port carries its Origin.
      expectError(await send(open.adminPort, '/v1/nodes', { ...post, headers: { ...post.headers, origin: 'http://attacker.example' } }), 'ERR_ADMIN_FORBIDDEN');
      // The operator's own tools: the dashboard's reads, curl's pushes.
      expect((await send(open.adminPort, '/v1/dashboard', { headers: { host: `localhost:${open.adminPort}` } })).status).toBe(200);
      expect((await send(open.adminPort, '/v1/nodes', post)).status).toBe(200);
    } finally {
      expect(await open.stop()).toBe(0);
    }
  });
});
