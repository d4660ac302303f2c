import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { steadyTraffic } from '../helpers/traffic.js';

type Mode = { kind: 'ok' } | { kind: 'fail'; share: number } | { kind: 'slow'; ms: number } | { kind: 'one-slow'; ms: number };

/** b0 and b1 answer at once; b2 does what `mode` says; a0 and a1 always fail. */
let mode: Mode = { kind: 'ok' };
/** The one slow answer of 'one-slow' went out. */
let slowAnswered = false;
let failCount = 0;
let backends: Backend[] = [];
let gateway: GatewayProcess;

const answer = (res: import('node:http').ServerResponse, id: string, status = 200) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));

beforeAll(async () => {
  backends = await Promise.all([
    ...['b0', 'b1'].map((id) => startBackend(id)),
    startBackend('b2', (req, res, id) => {
      req.resume();
      const m = mode;
      if (m.kind === 'fail') {
        // Every tenth request in a fixed pattern: exactly `share` of them fail.
        failCount = (failCount + 1) % 10;
        answer(res, id, failCount < m.share * 10 ? 503 : 200);
      } else if (m.kind === 'slow') {
        setTimeout(() => answer(res, id), m.ms);
      } else if (m.kind === 'one-slow') {
        mode = { kind: 'ok' };
        setTimeout(() => {
          answer(res, id);
          slowAnswered = true;
        }, m.ms);
      } else {
        answer(res, id);
      }
    }),
    ...['a0', 'a1'].map((id) => startBackend(id, (req, res) => (req.resume(), answer(res, id, 500)))),
  ]);
  const nodes = (ids: string[]) => backends.filter((b) => ids.includes(b.id)).map((b) => ({ id: b.id, url: b.url }));
  gateway = await startGateway({
    routes: [
      { prefix: '/b/', cluster: 'b' },
      { prefix: '/a/', cluster: 'a' },
    ],
    clusters: {
      b: { nodes: nodes(['b0', 'b1', 'b2']) },
      a: { nodes: nodes(['a0', 'a1']), breaker: { openMs: 60_000 } },
    },
  });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await Promise.all(backends.map((b) => b.close()));
});

const breakerState = async (node: string) => metricValue(await gateway.metrics(), 'ringgate_breaker_state', `node="${node}"`);
const transitions = async (from: string, to: string) =>
  metricValue(await gateway.metrics(), 'ringgate_breaker_transitions_total', `from="${from}"`, `to="${to}"`);

/** Waits for b2's breaker to close again (the node healthy): each test starts from there. */
async function b2Closes(): Promise<void> {
  mode = { kind: 'ok' };
  const traffic = steadyTraffic(gateway.port, '/b/x');
  await expect.poll(() => breakerState('b2'), { timeout: 15_000, interval: 200 }).toBe(0);
  await traffic.stop();
}

describe('circuit breaker', () => {
  it('opens for a node failing 60% of requests, keeps traffic off it, and closes through half-open probes once it recovers', async () => {
    mode = { kind: 'fail', share: 0.6 };
    const seenBefore = backends[2]!.seen.length;
    const traffic = steadyTraffic(gateway.port, '/b/x');
    await expect.poll(() => breakerState('b2'), { timeout: 10_000, interval: 50 }).toBe(1);
    // Soon: 20 answers fill the window, and a breaker tick (100 ms) follows. No clock here: a
    // loaded runner slows the traffic and the tick alike.
    expect(backends[2]!.seen.length - seenBefore).toBeLessThan(150);
    expect(metricValue(await gateway.metrics(), 'ringgate_breaker_score', 'node="b2"')).toBeGreaterThanOrEqual(0.7);
    // Open for 5 s (openMs) at least: 200 answers take well under that.
    const mark = traffic.outcomes.length;
    await expect.poll(() => traffic.outcomes.length - mark, { timeout: 10_000 }).toBeGreaterThan(200);
    const whileOpen = traffic.outcomes.slice(mark, mark + 200);
    expect(whileOpen.filter((o) => o.status !== 200)).toEqual([]);
    expect(whileOpen.some((o) => o.backend === 'b2')).toBe(false);

    mode = { kind: 'ok' };
    await expect.poll(() => breakerState('b2'), { timeout: 15_000, interval: 100 }).toBe(0);
    expect(await transitions('open', 'half_open')).toBeGreaterThanOrEqual(1);
    expect(await transitions('half_open', 'closed')).toBeGreaterThanOrEqual(1);
    const back = traffic.outcomes.length;
    await expect.poll(() => traffic.outcomes.slice(back).some((o) => o.backend === 'b2'), { timeout: 10_000 }).toBe(true);
    await traffic.stop();
  }, 40_000);

  it('opens for a node whose p99 went far past its baseline, with no error to any client', async () => {
    await b2Closes();
    const traffic = steadyTraffic(gateway.port, '/b/x', 8);
    // Its baseline first: fast, like the others (about 1 ms; the floor is minBaselineMs, 25 ms: 60 ms is 2.4× it).
    await expect.poll(() => traffic.outcomes.filter((o) => o.backend === 'b2').length, { timeout: 10_000 }).toBeGreaterThan(300);
    const opensBefore = await transitions('closed', 'open');
    mode = { kind: 'slow', ms: 60 };
    await expect.poll(() => breakerState('b2'), { timeout: 10_000, interval: 50 }).toBe(1);
    expect(await transitions('closed', 'open')).toBe(opensBefore + 1);
    await traffic.stop();
    expect(traffic.outcomes.filter((o) => o.status !== 200)).toEqual([]);
    await b2Closes();
  }, 60_000);

  it('does not open for a single slow answer', async () => {
    await b2Closes();
    const traffic = steadyTraffic(gateway.port, '/b/x', 8);
    await expect.poll(() => traffic.outcomes.filter((o) => o.backend === 'b2').length, { timeout: 10_000 }).toBeGreaterThan(300);
    const opensBefore = await transitions('closed', 'open');
    slowAnswered = false;
    mode = { kind: 'one-slow', ms: 1000 };
    await expect.poll(() => slowAnswered, { timeout: 10_000 }).toBe(true);
    // Then a failure window's worth of traffic (and its breaker ticks) at the node after it.
    const seen = backends[2]!.seen.length;
    await expect.poll(() => backends[2]!.seen.length > seen + 300, { timeout: 15_000 }).toBe(true);
    await traffic.stop();
    expect(await transitions('closed', 'open')).toBe(opensBefore);
    expect(await breakerState('b2')).toBe(0);
  }, 40_000);

  it('answers 503 ERR_CIRCUIT_OPEN once every node of the cluster is open', async () => {
    // Sequential requests: each gets the nodes' 500 while either breaker is closed.
    // Until a deadline rather than a count: on a loaded runner 2,000 requests once ran out first.
    const deadline = Date.now() + 30_000;
    let reply = await send(gateway.port, '/a/x', { tenant: 't0' });
    for (let i = 1; Date.now() < deadline && reply.status === 500; i++) reply = await send(gateway.port, '/a/x', { tenant: `t${i}` });
    expectError(reply, 'ERR_CIRCUIT_OPEN');
    expect([await breakerState('a0'), await breakerState('a1')]).toEqual([1, 1]);
    expect(metricValue(await gateway.metrics(), 'ringgate_http_errors_total', 'code="ERR_CIRCUIT_OPEN"')).toBeGreaterThanOrEqual(1);
  }, 45_000);
});
