import { describe, expect, it } from 'vitest';
import { BreakerState, NodeBreaker, type BreakerOptions } from '../../src/resilience/breaker.js';
import { LATENCY_BUCKETS, latencyBucket } from '../../src/resilience/latency-histogram.js';

const TICK = 100;
const OPTIONS: BreakerOptions = {
  threshold: 0.7,
  windowMs: 1000,
  minRequests: 20,
  latencyHalfLifeMs: 2000,
  minLatencySamples: 100,
  minBaselineMs: 5,
  baselineHalfLifeMs: 60_000,
  openMs: 5000,
  maxOpenMs: 60_000,
  probes: 3,
  probeTimeoutMs: 1000,
};

/** One tick's counts: `answers` at `ms` each, `failures` of them failed; all of them probes unless `probes` says otherwise. */
function sample(answers: number, ms: number, failures = 0, probes = { endings: answers, failures }) {
  const latencies = new Float64Array(LATENCY_BUCKETS);
  latencies[latencyBucket(ms)] = answers;
  return { latencies, failures, probeEndings: probes.endings, probeFailures: probes.failures };
}

/** A breaker driven tick by tick on its own clock; `clusterP99` as the monitor would pass it. */
function driver(options: Partial<BreakerOptions> = {}, random = () => 0) {
  const breaker = new NodeBreaker({ ...OPTIONS, ...options }, TICK, random);
  let now = 0;
  return {
    breaker,
    get now() {
      return now;
    },
    /** `clusterP99` 'self': a cluster of nodes like this one. */
    tick(s: ReturnType<typeof sample>, clusterP99: number | null | 'self' = 'self'): BreakerState {
      now += TICK;
      breaker.observe(s, TICK);
      return breaker.evaluate(now, s, clusterP99 === 'self' ? breaker.p99 : clusterP99, TICK);
    },
    idle(ms: number): BreakerState {
      let state = breaker.state;
      for (let t = 0; t < ms; t += TICK) state = this.tick(sample(0, 1));
      return state;
    },
  };
}

describe('circuit breaker', () => {
  it('stays closed while healthy: score 0.4 (latency at its baseline, no failures)', () => {
    const d = driver();
    for (let i = 0; i < 50; i++) expect(d.tick(sample(50, 10))).toBe(BreakerState.Closed);
    expect(d.breaker.score).toBeCloseTo(0.4, 1);
  });

  it('judges a node with too few answers for one window on as many windows as it takes (up to THIN_WINDOWS)', () => {
    // 10 answers a second, every one failed: no 1 s window holds the 20 it needs.
    const failing = driver();
    const states: BreakerState[] = [];
    for (let i = 0; i < 30; i++) states.push(failing.tick(sample(1, 10, 1)));
    expect(states.indexOf(BreakerState.Open)).toBe(19);
    // The same traffic answered: closed.
    const healthy = driver();
    for (let i = 0; i < 200; i++) expect(healthy.tick(sample(1, 10))).toBe(BreakerState.Closed);
    // 1 answer a second: ten windows never hold 20, and nothing is judged.
    const quiet = driver();
    for (let i = 0; i < 300; i++) expect(quiet.tick(sample(i % 10 === 0 ? 1 : 0, 10, i % 10 === 0 ? 1 : 0))).toBe(BreakerState.Closed);
  });

  it('opens for a node that fails every request however fast it answers (p99 far under the floor)', () => {
    const d = driver({ minBaselineMs: 25 });
    // Healthy and fast first: 1 ms, well under the 25 ms floor, with p99 learned (100+ answers).
    for (let i = 0; i < 20; i++) expect(d.tick(sample(50, 1))).toBe(BreakerState.Closed);
    expect(d.breaker.p99).not.toBeNull();
    let state = BreakerState.Closed;
    for (let i = 0; i < 10 && state === BreakerState.Closed; i++) state = d.tick(sample(50, 1, 50));
    expect(state).toBe(BreakerState.Open);
  });

  it('opens on a 60% failure rate once the window holds minRequests answers', () => {
    const d = driver();
    expect(d.tick(sample(10, 10, 6))).toBe(BreakerState.Closed); // 10 answers: too few to judge
    expect(d.tick(sample(10, 10, 6))).toBe(BreakerState.Open);
    expect(d.breaker.score).toBeCloseTo(0.6 * 0.6 + 0.4, 2);
  });

  it('does not open at a 40% failure rate with normal latency (score 0.64)', () => {
    const d = driver();
    for (let i = 0; i < 30; i++) expect(d.tick(sample(50, 10, 20))).toBe(BreakerState.Closed);
  });

  it('opens on latency alone: p99 at 3× its learned baseline', () => {
    const d = driver();
    for (let i = 0; i < 30; i++) d.tick(sample(50, 20));
    expect(d.breaker.baseline).toBeGreaterThan(15);
    let state = BreakerState.Closed;
    for (let i = 0; i < 10 && state === BreakerState.Closed; i++) state = d.tick(sample(50, 60), 20);
    expect(state).toBe(BreakerState.Open);
  });

  it('one slow answer among hundreds does not open it (the histogram decays, p99 needs 1% of answers)', () => {
    const d = driver();
    for (let i = 0; i < 30; i++) d.tick(sample(50, 20));
    const spike = sample(49, 20);
    spike.latencies[latencyBucket(2000)] = 1;
    expect(d.tick(spike, 20)).toBe(BreakerState.Closed);
    for (let i = 0; i < 10; i++) expect(d.tick(sample(50, 20))).toBe(BreakerState.Closed);
  });

  it("a slowdown every node shares does not open it: the cluster's median p99 is the reference", () => {
    const d = driver();
    for (let i = 0; i < 30; i++) d.tick(sample(50, 20));
    for (let i = 0; i < 30; i++) expect(d.tick(sample(50, 80))).toBe(BreakerState.Closed);
  });

  it('never compares p99 with less than minBaselineMs: sub-millisecond jitter is no slowness', () => {
    const d = driver();
    for (let i = 0; i < 30; i++) d.tick(sample(50, 0.2));
    for (let i = 0; i < 30; i++) expect(d.tick(sample(50, 3), 0.3)).toBe(BreakerState.Closed);
  });

  it('a configured baseline replaces the learned one', () => {
    const d = driver({ baselineP99Ms: 10 });
    let state = BreakerState.Closed;
    for (let i = 0; i < 10 && state === BreakerState.Closed; i++) state = d.tick(sample(50, 40), 10);
    expect(state).toBe(BreakerState.Open);
    expect(d.breaker.baseline).toBe(10);
  });

  it('half-opens after openMs plus jitter, closes after `probes` answers in time', () => {
    const d = driver({}, () => 0.5); // jitter: 10% of openMs
    d.tick(sample(20, 10, 20));
    expect(d.breaker.state).toBe(BreakerState.Open);
    const openedAt = d.now;
    while (d.tick(sample(0, 1)) === BreakerState.Open) expect(d.now - openedAt).toBeLessThan(5600);
    expect(d.now - openedAt).toBeGreaterThanOrEqual(5500);
    expect(d.breaker.state).toBe(BreakerState.HalfOpen);
    expect(d.tick(sample(2, 10))).toBe(BreakerState.HalfOpen);
    expect(d.tick(sample(1, 10))).toBe(BreakerState.Closed);
  });

  it('judges a half-open node by its probes alone: requests sent before it opened, failing late, do not reopen it', () => {
    const d = driver();
    d.tick(sample(20, 10, 20));
    d.idle(5000);
    expect(d.breaker.state).toBe(BreakerState.HalfOpen);
    // Timeouts of requests from when the node hung, ending now: no probe among them.
    expect(d.tick(sample(5, 1000, 5, { endings: 0, failures: 0 }))).toBe(BreakerState.HalfOpen);
    // Nor do their answers close it: three probes do.
    expect(d.tick(sample(4, 10, 0, { endings: 2, failures: 0 }))).toBe(BreakerState.HalfOpen);
    expect(d.tick(sample(1, 10, 0, { endings: 1, failures: 0 }))).toBe(BreakerState.Closed);
  });

  it('a failed probe reopens it, for twice as long; slow probes close it (latency is judged again on a fresh window)', () => {
    const d = driver({ baselineP99Ms: 10 });
    d.tick(sample(20, 10, 20));
    d.idle(5000);
    expect(d.breaker.state).toBe(BreakerState.HalfOpen);
    expect(d.tick(sample(1, 10, 1))).toBe(BreakerState.Open);
    expect(d.idle(9900)).toBe(BreakerState.Open);
    expect(d.idle(200)).toBe(BreakerState.HalfOpen);
    expect(d.tick(sample(3, 40), 10)).toBe(BreakerState.Closed);
    // Still slow: it opens again, from a fresh window, once 100 answers give a p99.
    let ticks = 0;
    while (d.breaker.state === BreakerState.Closed && ticks < 5) {
      d.tick(sample(50, 40), 10);
      ticks++;
    }
    expect(d.breaker.state).toBe(BreakerState.Open);
    expect(ticks).toBe(3);
  });

  it('caps the open time at maxOpenMs', () => {
    const d = driver({ maxOpenMs: 8000 });
    d.tick(sample(20, 10, 20));
    for (let open = 0; open < 4; open++) {
      d.idle(d.breaker.state === BreakerState.Open ? 8000 : 0);
      expect(d.breaker.state).toBe(BreakerState.HalfOpen);
      d.tick(sample(1, 10, 1));
    }
    expect(d.idle(7900)).toBe(BreakerState.Open);
    expect(d.idle(200)).toBe(BreakerState.HalfOpen);
  });

  it('hands its probe tokens out again when none came back within probeTimeoutMs', () => {
    const d = driver();
    d.tick(sample(20, 10, 20));
    d.idle(5000);
    d.tick(sample(1, 10));
    expect(d.breaker.probesOwed).toBe(2);
    expect(d.breaker.probesLost(d.now + 900)).toBe(false);
    expect(d.breaker.probesLost(d.now + 1000)).toBe(true);
    expect(d.breaker.probesLost(d.now + 1500)).toBe(false);
  });

  it('starts afresh after closing: the answers that opened it are forgotten', () => {
    const d = driver();
    d.tick(sample(20, 10, 20));
    d.idle(5000);
    d.tick(sample(3, 10));
    expect(d.breaker.state).toBe(BreakerState.Closed);
    expect(d.tick(sample(10, 10, 1))).toBe(BreakerState.Closed);
    expect(d.breaker.score).toBe(0);
  });
});
