import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadOrigin, startBackend, startRawBackend, type Backend } from '../helpers/backends.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send, type Reply } from '../helpers/http.js';

const ATTEMPT = 'x-ringgate-attempt';
let backends: Backend[] = [];
let raws: { url: string; close(): Promise<void> }[] = [];
let gateway: GatewayProcess;
/** Knows no name: a node named by one never connects. */
let dns: TestDnsServer;
/** Budget cluster: tries in flight at its nodes now, and the most retries ever in flight at once. */
let budgetRetries = 0;
let budgetRetriesPeak = 0;
const holding: ServerResponse[] = [];

const json = (res: ServerResponse, id: string, status = 200) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));

beforeAll(async () => {
  backends = await Promise.all([
    ...['r1', 'r2', 'k1', 'p1', 't1', 's1', 'l2', 'd1', 'n1'].map((id) => startBackend(id)),
    // Answer 503: only a second retry gets a request whose walk meets both first to l2.
    ...['l0', 'l1'].map((id) => startBackend(id, (req, res) => (req.resume(), json(res, id, 503)))),
    // Never answers: only a per-try timeout gets the request elsewhere.
    startBackend('t0', (req, res) => (req.resume(), holding.push(res))),
    ...['u0', 'u1', 'u2'].map((id) =>
      startBackend(id, (req, res) => {
        req.resume();
        const retry = req.headers[ATTEMPT] !== undefined;
        if (retry) budgetRetriesPeak = Math.max(budgetRetriesPeak, ++budgetRetries);
        setTimeout(() => {
          if (retry) budgetRetries--;
          json(res, id, 503);
        }, 300);
      }),
    ),
  ]);
  const reset = (socket: import('node:net').Socket) => socket.destroy();
  raws = await Promise.all([
    startRawBackend(reset),
    startRawBackend(reset),
    startRawBackend(reset),
    // The head and some of the body, then a reset.
    startRawBackend((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\npartial', () => socket.destroy())),
    // A 503 with its length and body in one write, as nginx's error pages come: the retry aborts
    // the try from inside its head, with the whole answer already read.
    startRawBackend((socket) => socket.write('HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 19\r\n\r\nno healthy upstream')),
  ]);
  dns = await startDnsServer({});
  const url = (id: string) => backends.find((b) => b.id === id)!.url;
  gateway = await startGateway({
    routes: [
      { prefix: '/r/', cluster: 'refusing' },
      { prefix: '/k/', cluster: 'keyed' },
      { prefix: '/p/', cluster: 'posts' },
      { prefix: '/d/', cluster: 'doubly' },
      { prefix: '/t/', cluster: 'hanging', retries: { perTryTimeoutMs: 300 } },
      { prefix: '/h/', cluster: 'truncating' },
      { prefix: '/u/', cluster: 'budget', retries: { on: ['503'] } },
      { prefix: '/s/', cluster: 'whole503', retries: { on: ['503'] } },
      { prefix: '/l/', cluster: 'lone', retries: { max: 2, on: ['503'] } },
      { prefix: '/n/', cluster: 'unnamed' },
    ],
    clusters: {
      refusing: { nodes: [{ id: 'r0', url: await deadOrigin() }, { id: 'r1', url: url('r1') }, { id: 'r2', url: url('r2') }] },
      keyed: { nodes: [{ id: 'k0', url: raws[0]!.url }, { id: 'k1', url: url('k1') }] },
      posts: { nodes: [{ id: 'p0', url: raws[1]!.url }, { id: 'p1', url: url('p1') }] },
      doubly: { nodes: [{ id: 'd0', url: raws[2]!.url }, { id: 'd1', url: url('d1') }] },
      hanging: { nodes: [{ id: 't0', url: url('t0') }, { id: 't1', url: url('t1') }] },
      truncating: { nodes: [{ id: 'h0', url: raws[3]!.url }] },
      // The breaker would stop the failing nodes getting any tries; here the budget alone is tested.
      budget: { nodes: ['u0', 'u1', 'u2'].map((id) => ({ id, url: url(id) })), breaker: { enabled: false } },
      whole503: { nodes: [{ id: 's0', url: raws[4]!.url }, { id: 's1', url: url('s1') }], breaker: { enabled: false } },
      // One retry in flight at most: a request alone must still make its second.
      lone: { nodes: ['l0', 'l1', 'l2'].map((id) => ({ id, url: url(id) })), breaker: { enabled: false }, retryBudget: { percent: 0, minRetries: 1 } },
      // n0's name does not resolve: its tries never open a connection.
      unnamed: { nodes: [{ id: 'n0', url: `http://gone.test:${new URL(url('n1')).port}` }, { id: 'n1', url: url('n1') }] },
    },
  }, { GATEWAY_DNS_SERVERS: dns.address });
});

afterAll(async () => {
  for (const res of holding.splice(0)) res.end();
  expect(await gateway?.stop()).toBe(0);
  await Promise.all([...backends, ...raws, dns].map((b) => b?.close()));
});

const retries = async (cluster: string, reason: string) =>
  metricValue(await gateway.metrics(), 'ringgate_retries_total', `cluster="${cluster}"`, `reason="${reason}"`);
const tenants = (n: number) => Array.from({ length: n }, (_, i) => `tenant-${i}`);
const backendOf = (reply: Reply) => (JSON.parse(reply.text) as { backend: string }).backend;
/** One after another: each alone in flight, so the retry budget (at least 3) never refuses one. */
async function oneByOne(path: string, names: string[]): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (const tenant of names) replies.push(await send(gateway.port, path, { tenant }));
  return replies;
}

describe('retries', () => {
  it('a node that refuses connections: the GET succeeds on another node, marked as the second attempt', async () => {
    const replies = await oneByOne('/r/x', tenants(30));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    expect(await retries('refusing', 'refused')).toBeGreaterThanOrEqual(1);
    const retried = backends.filter((b) => b.id === 'r1' || b.id === 'r2').flatMap((b) => b.seen.filter((s) => s.headers[ATTEMPT] === '2'));
    expect(retried.length).toBe(await retries('refusing', 'refused'));
  });

  it("a node whose name does not resolve: the GET succeeds on another node, as after a refused connection", async () => {
    const replies = await oneByOne('/n/x', tenants(30));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    expect(replies.map(backendOf)).toEqual(replies.map(() => 'n1'));
    expect(await retries('unnamed', 'refused')).toBeGreaterThanOrEqual(1);
  });

  it("never forwards a client's own x-ringgate-attempt: a node can trust the header", async () => {
    expect((await send(gateway.port, '/r/x', { tenant: 'spoof', headers: { [ATTEMPT]: '9' } })).status).toBe(200);
    const seen = backends.filter((b) => b.id === 'r1' || b.id === 'r2').flatMap((b) => b.seen);
    expect(seen.some((s) => s.headers[ATTEMPT] === '9')).toBe(false);
  });

  it('a POST without Idempotency-Key is not retried after a reset; with one it is', async () => {
    const plain = [];
    for (const tenant of tenants(20)) plain.push(await send(gateway.port, '/p/x', { tenant, method: 'POST', body: 'once' }));
    expect(plain.some((r) => r.status === 502)).toBe(true);
    for (const reply of plain) if (reply.status !== 200) expectError(reply, 'ERR_UPSTREAM_CONNECT');
    expect(await retries('posts', 'reset')).toBe(0);

    const keyed = [];
    for (const tenant of tenants(20)) {
      keyed.push(await send(gateway.port, '/k/x', { tenant, method: 'POST', body: 'twice is fine', headers: { 'idempotency-key': `key-${tenant}` } }));
    }
    expect(keyed.map((r) => r.status)).toEqual(keyed.map(() => 200));
    expect(keyed.every((r) => backendOf(r) === 'k1')).toBe(true);
    expect(await retries('keyed', 'reset')).toBeGreaterThanOrEqual(1);
    const k1 = backends.find((b) => b.id === 'k1')!;
    const secondTries = k1.seen.filter((s) => s.headers[ATTEMPT] === '2');
    expect(secondTries.length).toBeGreaterThanOrEqual(1);
    expect(secondTries.every((s) => s.method === 'POST')).toBe(true);
  });

  it('a POST with two Idempotency-Keys is not retried: they name no one key', async () => {
    const twice = [];
    for (const tenant of tenants(20)) {
      twice.push(await send(gateway.port, '/d/x', { tenant, method: 'POST', body: 'once', headers: { 'idempotency-key': [`a-${tenant}`, `b-${tenant}`] } }));
    }
    expect(twice.some((r) => r.status === 502)).toBe(true);
    for (const reply of twice) if (reply.status !== 200) expectError(reply, 'ERR_UPSTREAM_CONNECT');
    expect(await retries('doubly', 'reset')).toBe(0);
  });

  it('a try that times out (perTryTimeoutMs) is retried on another node', async () => {
    const replies = await oneByOne('/t/x', tenants(10));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    expect(replies.every((r) => backendOf(r) === 't1')).toBe(true);
    expect(await retries('hanging', 'timeout')).toBeGreaterThanOrEqual(1);
  });

  it('a node that resets after sending the head is not retried: the client sees the truncation', async () => {
    await expect(send(gateway.port, '/h/x', { tenant: 'any' })).rejects.toThrow();
    expect(await retries('truncating', 'reset')).toBe(0);
  });

  it('a 503 read whole with its head is retried on another node, and the thread lives on', async () => {
    const replies = await oneByOne('/s/x', tenants(30));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    expect(replies.map(backendOf)).toEqual(replies.map(() => 's1'));
    expect(await retries('whole503', '503')).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_node_in_flight', 'cluster="whole503"')).toBe(0);
  });

  it("a request's own retry that failed does not count against its next one in the budget", async () => {
    const replies = await oneByOne('/l/x', tenants(24));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    expect(replies.map(backendOf)).toEqual(replies.map(() => 'l2'));
    const metrics = await gateway.metrics();
    // Some walks met l0 and l1 both before l2: second retries, each made alone.
    const l2 = backends.find((b) => b.id === 'l2')!;
    expect(l2.seen.some((s) => s.headers[ATTEMPT] === '3')).toBe(true);
    expect(metricValue(metrics, 'ringgate_retry_budget_exhausted_total', 'cluster="lone"')).toBe(0);
    expect(metricValue(metrics, 'ringgate_retries_in_flight', 'cluster="lone"')).toBe(0);
  });

  it('with every node failing, retries in flight never exceed the budget', async () => {
    // 30 requests in flight: the budget is max(3, 20% of 30) = 6 retries at once, all threads together.
    const replies = await Promise.all(tenants(30).map((tenant) => send(gateway.port, '/u/x', { tenant })));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 503));
    expect(budgetRetriesPeak).toBeGreaterThanOrEqual(1);
    expect(budgetRetriesPeak).toBeLessThanOrEqual(6);
    const metrics = await gateway.metrics();
    expect(metricValue(metrics, 'ringgate_retry_budget_exhausted_total', 'cluster="budget"')).toBeGreaterThanOrEqual(1);
    expect(metricValue(metrics, 'ringgate_retries_total', 'cluster="budget"', 'reason="503"')).toBeGreaterThanOrEqual(1);
    // Nothing leaked: every try and every budget claim was given back.
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_node_in_flight', 'cluster="budget"')).toBe(0);
    expect(metricValue(await gateway.metrics(), 'ringgate_retries_in_flight', 'cluster="budget"')).toBe(0);
  }, 20_000);
});
