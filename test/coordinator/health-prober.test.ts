import type { Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { HealthProber, type ProbeDial, type ProbeTarget } from '../../src/coordinator/health-prober.js';
import type { HealthCheckConfig } from '../../src/config/schema.js';
import { PROBE_STALL_MS } from '../../src/resilience/health-check.js';
import { loadUndici } from '../../src/upstream/undici-loader.js';
import { startBackend, type Backend, type Handler } from '../helpers/backends.js';

const check: HealthCheckConfig = {
  path: '/healthz',
  intervalMs: 1_000,
  jitterMs: 0,
  timeoutMs: 200,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
  expectedStatus: { min: 200, max: 399 },
  reuseConnection: true,
};

/** What the coordinator cannot do while stopped or starved: run. The test's own loop is the coordinator's here. */
function stallFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

// As the coordinator does at start: its checks of https nodes, or under the undici client, go through undici's pools.
beforeAll(loadUndici);

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((thing) => thing.close()));
});

/** A prober checking one backend at once (random 0: no first delay), and what it reported. */
async function probe(
  handler: Handler,
  overrides: Partial<HealthCheckConfig> = {},
  client: ProbeDial['client'] = 'h1',
): Promise<{ backend: Backend; results: boolean[]; stalls: number[]; prober: HealthProber }> {
  const backend = await startBackend('checked', handler);
  const results: boolean[] = [];
  const stalls: number[] = [];
  const prober = new HealthProber(
    { result: (_node, ok) => results.push(ok), stalled: (_target, lateMs) => stalls.push(lateMs) },
    { lookup: undefined, connectTimeoutMs: 1_000, client },
    () => 0,
  );
  open.push(backend, { close: () => prober.stop() });
  const target: ProbeTarget = { node: 0, url: backend.url, check: { ...check, ...overrides }, tls: undefined };
  prober.start([target]);
  return { backend, results, stalls, prober };
}

describe('health prober', () => {
  it('checks again, and counts nothing, when a check timed out while the coordinator was stalled', async () => {
    let stalled = false;
    const { backend, results, stalls } = await probe((_req, res) => {
      res.writeHead(200).end('ok');
      // The answer is in the prober's socket before its deadline; the loop that would read it is stopped past it.
      if (!stalled) {
        stalled = true;
        stallFor(check.timeoutMs + 400);
      }
    });
    await vi.waitFor(() => expect(results).toEqual([true]), { timeout: 5_000, interval: 20 });
    expect(stalls).toHaveLength(1);
    expect(stalls[0]).toBeGreaterThan(PROBE_STALL_MS);
    expect(backend.seen).toHaveLength(2);
  });

  it('counts the second stalled timeout in a row as a failure', async () => {
    const { backend, results, stalls } = await probe((_req, res) => {
      res.writeHead(200).end('ok');
      stallFor(check.timeoutMs + 400);
    });
    await vi.waitFor(() => expect(results).toEqual([false]), { timeout: 5_000, interval: 20 });
    expect(stalls).toHaveLength(1);
    expect(backend.seen).toHaveLength(2);
  });

  it('counts a hung node at its deadline, checking again only if the loop itself was late', async () => {
    const { backend, results, stalls } = await probe(() => {
      // Never answers.
    });
    await vi.waitFor(() => expect(results).toEqual([false]), { timeout: 5_000, interval: 20 });
    // This process may be busy enough to stall past the deadline too: then, and only then, a second check.
    expect(stalls.length).toBeLessThanOrEqual(1);
    expect(backend.seen).toHaveLength(1 + stalls.length);
  });

  /** Answers `status` with `bodyBytes` of body, and keeps each request's socket. */
  function answering(sockets: Socket[], status = 200, bodyBytes = 2): Handler {
    return (req, res) => {
      sockets.push(req.socket);
      res.writeHead(status, { 'content-length': bodyBytes }).end('x'.repeat(bodyBytes));
    };
  }

  for (const client of ['h1', 'undici'] as const) {
    it(`keeps its connection from one check to the next (${client} client)`, async () => {
      const sockets: Socket[] = [];
      const { backend, results } = await probe(answering(sockets, 200, 64 * 1024), { intervalMs: 20 }, client);
      await vi.waitFor(() => expect(results.length).toBeGreaterThanOrEqual(3), { timeout: 5_000, interval: 10 });
      expect(results.slice(0, 3)).toEqual([true, true, true]);
      expect(new Set(sockets.slice(0, 3)).size).toBe(1);
      expect(backend.seen[0]!.headers.connection).not.toBe('close');
      expect(backend.seen[0]!.headers.host).toBe(new URL(backend.url).host);
      expect(backend.seen[0]!.url).toBe('/healthz');
    });

    it(`opens a connection for each check and asks the node to close it, with reuseConnection false (${client} client)`, async () => {
      const sockets: Socket[] = [];
      const { backend, results } = await probe(answering(sockets), { intervalMs: 20, reuseConnection: false }, client);
      await vi.waitFor(() => expect(results.length).toBeGreaterThanOrEqual(3), { timeout: 5_000, interval: 10 });
      expect(results.slice(0, 3)).toEqual([true, true, true]);
      expect(new Set(sockets.slice(0, 3)).size).toBe(3);
      expect(backend.seen.slice(0, 3).map((seen) => seen.headers.connection)).toEqual(['close', 'close', 'close']);
    });
  }

  it('connects anew once node names moved, so checks follow the acceptors to the new address', async () => {
    const sockets: Socket[] = [];
    const { results, prober } = await probe(answering(sockets), { intervalMs: 20 });
    await vi.waitFor(() => expect(results.length).toBeGreaterThanOrEqual(2), { timeout: 5_000, interval: 10 });
    const before = sockets.length;
    expect(new Set(sockets).size).toBe(1);
    prober.reconnect();
    await vi.waitFor(() => expect(sockets.length).toBeGreaterThanOrEqual(before + 2), { timeout: 5_000, interval: 10 });
    // The check in flight when the names moved may end on the old connection; every later one is on one new connection.
    expect(new Set(sockets.slice(before + 1)).size).toBe(1);
    expect(sockets.at(-1)).not.toBe(sockets[0]);
  });

  it('keeps a node\'s schedule, connection and check in flight across a restart that checks it as before', async () => {
    const sockets: Socket[] = [];
    const answer = answering(sockets);
    const { backend, results, prober } = await probe((req, res, id) => void setTimeout(() => answer(req, res, id), 150), { intervalMs: 60_000 });
    await vi.waitFor(() => expect(backend.seen).toHaveLength(1), { timeout: 5_000, interval: 5 });
    // A reload parses the same check anew: equal, not the same objects.
    const same: ProbeTarget = { node: 0, url: backend.url, check: { ...check, intervalMs: 60_000 }, tls: undefined };
    prober.restart([same]);
    await vi.waitFor(() => expect(results).toEqual([true]), { timeout: 5_000, interval: 5 });
    // No check started over, and none due for a minute.
    expect(backend.seen).toHaveLength(1);
    // Checked otherwise (another path): the node's checks start over, on a new connection.
    prober.restart([{ ...same, check: { ...same.check, path: '/other' } }]);
    await vi.waitFor(() => expect(results).toEqual([true, true]), { timeout: 5_000, interval: 5 });
    expect(backend.seen.map((seen) => seen.url)).toEqual(['/healthz', '/other']);
    expect(sockets[1]).not.toBe(sockets[0]);
  });

  it('fails a check whose status is outside the expected range', async () => {
    const { results } = await probe(answering([], 503), { intervalMs: 20 });
    await vi.waitFor(() => expect(results.length).toBeGreaterThanOrEqual(2), { timeout: 5_000, interval: 10 });
    expect(results.slice(0, 2)).toEqual([false, false]);
  });

  it('sends the path as a URL resolves it, query included', async () => {
    const { backend, results } = await probe(answering([]), { path: '/health check?deep=1' });
    await vi.waitFor(() => expect(results).toEqual([true]), { timeout: 5_000, interval: 10 });
    expect(backend.seen[0]!.url).toBe('/health%20check?deep=1');
  });

  it.each(['//elsewhere/healthz', '/\\elsewhere/healthz'])('checks its own node on a path that could read as another host: %s', async (path) => {
    const { backend, results } = await probe(answering([]), { path });
    await vi.waitFor(() => expect(results).toEqual([true]), { timeout: 5_000, interval: 10 });
    expect(backend.seen[0]!.url).toBe('//elsewhere/healthz');
    expect(backend.seen[0]!.headers.host).toBe(new URL(backend.url).host);
  });

  it('gets a bare "//" to its node rather than throwing', async () => {
    const { backend, results } = await probe(answering([]), { path: '//' });
    await vi.waitFor(() => expect(results).toEqual([true]), { timeout: 5_000, interval: 10 });
    expect(backend.seen[0]!.url).toBe('//');
  });

  it('checks on a new connection after one timed out, and passes once the node answers', async () => {
    const sockets: Socket[] = [];
    let hung = false;
    const { results } = await probe((req, res) => {
      sockets.push(req.socket);
      if (!hung) {
        hung = true;
        return;
      }
      res.writeHead(200, { 'content-length': 2 }).end('ok');
    }, { intervalMs: 20 });
    await vi.waitFor(() => expect(results.length).toBeGreaterThanOrEqual(2), { timeout: 5_000, interval: 10 });
    expect(results.slice(0, 2)).toEqual([false, true]);
    expect(sockets[1]).not.toBe(sockets[0]);
  });
});
