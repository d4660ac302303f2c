import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BreakerState } from '../../src/resilience/breaker.js';
import { LATENCY_BUCKETS } from '../../src/resilience/latency-histogram.js';
import {
  attachBreakerTable,
  breakerState,
  ClusterBreakers,
  createBreakerTable,
  probeTokens,
  readBreakerCounts,
  recordBreakerEnding,
  recordProbeEnding,
  refillProbeTokens,
  returnProbeToken,
  beginProbePeriod,
  setBreakerState,
} from '../../src/shm/breaker-table.js';
import { claimRetry, countRetry, createRetryTable, endRetry, readRetryCounters, releaseRetryLane, retriesInFlight } from '../../src/shm/retry-table.js';
import { RETRY_REASONS } from '../../src/resilience/retry-reasons.js';

const HAMMER = new URL('../fixtures/resilience-hammer.mjs', import.meta.url);

describe('shared breaker table', () => {
  it('counts endings per latency bucket and failures, seen through any view', () => {
    const table = createBreakerTable(4);
    const other = attachBreakerTable(table.buffer);
    recordBreakerEnding(table, 2, 5, false);
    recordBreakerEnding(table, 2, 5, true);
    recordBreakerEnding(table, 2, LATENCY_BUCKETS - 1, true);
    recordProbeEnding(table, 2, 0, true);
    const latencies = new Float64Array(LATENCY_BUCKETS);
    const counts = { failures: -1, probeEndings: -1, probeFailures: -1 };
    readBreakerCounts(other, 2, latencies, counts);
    expect(counts).toEqual({ failures: 2, probeEndings: 1, probeFailures: 1 });
    expect(latencies[5]).toBe(2);
    expect(latencies[LATENCY_BUCKETS - 1]).toBe(1);
    readBreakerCounts(other, 1, latencies, counts);
    expect(counts).toEqual({ failures: 0, probeEndings: 0, probeFailures: 0 });
  });

  it('hands a half-open node its probe tokens, one per request, by members of a cluster', () => {
    const table = createBreakerTable(4);
    // The cluster's members are slots 3 and 1.
    const states = new ClusterBreakers(table, [3, 1]);
    setBreakerState(table, 1, BreakerState.HalfOpen, 2);
    expect(states.state(1)).toBe(BreakerState.HalfOpen);
    expect(states.state(0)).toBe(BreakerState.Closed);
    const period = states.probePeriod(1);
    // Each token taken says which refill of the period's tokens it is of (none yet: 0); -1, none left.
    expect([states.takeProbe(1, period), states.takeProbe(1, period), states.takeProbe(1, period)]).toEqual([0, 0, -1]);
    expect(probeTokens(table, 1)).toBe(0);
    // A probe that said nothing of the node gives its token back.
    returnProbeToken(table, 1, period, 0);
    expect(states.takeProbe(1, period)).toBe(0);
    // One of an earlier half-open period (it outlived a reopening) neither returns its token nor counts.
    const earlier = states.probePeriod(1);
    beginProbePeriod(table, 1);
    setBreakerState(table, 1, BreakerState.HalfOpen, 1);
    returnProbeToken(table, 1, earlier, 0);
    recordProbeEnding(table, 1, earlier, true);
    expect(probeTokens(table, 1)).toBe(1);
    const counts = { failures: 0, probeEndings: -1, probeFailures: -1 };
    readBreakerCounts(table, 1, new Float64Array(LATENCY_BUCKETS), counts);
    expect(counts).toMatchObject({ probeEndings: 0, probeFailures: 0 });
    setBreakerState(table, 3, BreakerState.Open, 0);
    expect(breakerState(table, 3)).toBe(BreakerState.Open);
  });

  it('hands lost probe tokens out again as a new refill, to which no token taken before it returns', () => {
    const table = createBreakerTable(1);
    const states = new ClusterBreakers(table, [0]);
    beginProbePeriod(table, 0);
    setBreakerState(table, 0, BreakerState.HalfOpen, 2);
    const period = states.probePeriod(0);
    const before = states.takeProbe(0, period);
    states.takeProbe(0, period);
    refillProbeTokens(table, 0, 2);
    const after = states.takeProbe(0, period);
    expect(after).not.toBe(before);
    returnProbeToken(table, 0, period, before);
    expect(probeTokens(table, 0)).toBe(1);
    returnProbeToken(table, 0, period, after);
    expect(probeTokens(table, 0)).toBe(2);
    // The refill's count wraps within its bits: a thousand refills on, the tokens are still the period's.
    for (let i = 0; i < 1_100; i++) refillProbeTokens(table, 0, 1);
    expect(states.takeProbe(0, period)).toBeGreaterThanOrEqual(0);
    expect(states.takeProbe(0, period)).toBe(-1);
  });
});

describe('shared retry table', () => {
  it('claims retries up to the budget, counts them by reason and the refusals, and gives them back', () => {
    const table = createRetryTable(2, 2);
    expect([claimRetry(table, 0, 1, 2), claimRetry(table, 1, 1, 2), claimRetry(table, 0, 1, 2)]).toEqual([true, true, false]);
    countRetry(table, 1, 2);
    countRetry(table, 1, 0);
    expect(retriesInFlight(table, 1)).toBe(2);
    expect(readRetryCounters(table, 1)).toEqual({ exhausted: 1, byReason: RETRY_REASONS.map((reason, r) => ({ reason, retries: r === 0 || r === 2 ? 1 : 0 })) });
    endRetry(table, 1, 1);
    expect(retriesInFlight(table, 1)).toBe(1);
    expect(retriesInFlight(table, 0)).toBe(0);
  });

  it("takes back a dead thread's retries", () => {
    const table = createRetryTable(2, 2);
    claimRetry(table, 0, 0, 10);
    claimRetry(table, 1, 0, 10);
    claimRetry(table, 1, 1, 10);
    releaseRetryLane(table, 1);
    expect([retriesInFlight(table, 0), retriesInFlight(table, 1)]).toEqual([1, 0]);
  });

  it('never grants more probe tokens or retries than there are, with four threads racing for them', async () => {
    const breakers = createBreakerTable(1);
    setBreakerState(breakers, 0, BreakerState.HalfOpen, 3);
    const retries = createRetryTable(1, 4);
    const go = new Int32Array(new SharedArrayBuffer(4));
    const workers = [0, 1, 2, 3].map(
      (lane) => new Worker(HAMMER, { workerData: { breakers: breakers.buffer, retries: retries.buffer, lane, attempts: 5000, budget: 7, go } }),
    );
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
    const results = workers.map((w) => new Promise<{ probes: number; claims: number }>((resolve) => w.once('message', resolve)));
    Atomics.store(go, 0, 1);
    const counts = await Promise.all(results);
    await Promise.all(workers.map((w) => w.terminate()));
    expect(counts.reduce((sum, c) => sum + c.probes, 0)).toBe(3);
    expect(counts.reduce((sum, c) => sum + c.claims, 0)).toBe(7);
    expect(retriesInFlight(retries, 0)).toBe(7);
    expect(readRetryCounters(retries, 0).exhausted).toBe(4 * 5000 - 7);
  });
});
