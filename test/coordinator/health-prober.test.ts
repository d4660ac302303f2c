import { afterEach, describe, expect, it, vi } from 'vitest';
import { HealthProber, type ProbeTarget } from '../../src/coordinator/health-prober.js';
import type { HealthCheckConfig } from '../../src/config/schema.js';
import { PROBE_STALL_MS } from '../../src/resilience/health-check.js';
import { startBackend, type Backend, type Handler } from '../helpers/backends.js';

const check: HealthCheckConfig = {
  path: '/healthz',
  intervalMs: 1_000,
  jitterMs: 0,
  timeoutMs: 200,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
  expectedStatus: { min: 200, max: 399 },
};

/** What the coordinator cannot do while stopped or starved: run. The test's own loop is the coordinator's here. */
function stallFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((thing) => thing.close()));
});

/** A prober checking one backend at once (random 0: no first delay), and what it reported. */
async function probe(handler: Handler): Promise<{ backend: Backend; results: boolean[]; stalls: number[] }> {
  const backend = await startBackend('checked', handler);
  const results: boolean[] = [];
  const stalls: number[] = [];
  const prober = new HealthProber(
    { result: (_node, ok) => results.push(ok), stalled: (_target, lateMs) => stalls.push(lateMs) },
    { lookup: undefined, connectTimeoutMs: 1_000 },
    () => 0,
  );
  open.push(backend, { close: () => prober.stop() });
  const target: ProbeTarget = { node: 0, url: backend.url, check, tls: undefined };
  prober.start([target]);
  return { backend, results, stalls };
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
});
