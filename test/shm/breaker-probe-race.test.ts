import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { breakerSchema } from '../../src/config/resilience-schema.js';
import type { GatewayConfig } from '../../src/config/load.js';
import { BreakerMonitor } from '../../src/coordinator/breaker-monitor.js';
import { createLogger } from '../../src/log.js';
import { BreakerState } from '../../src/resilience/breaker.js';
import { beginProbePeriod, breakerState, createBreakerTable, probePeriod, probeTokens, recordBreakerEnding, recordProbeEnding, setBreakerState } from '../../src/shm/breaker-table.js';

const HAMMER = new URL('../fixtures/stale-probe-hammer.mjs', import.meta.url);
const RETURNER = new URL('../fixtures/probe-return-hammer.mjs', import.meta.url);
const CYCLES = 400;

describe('breaker probe periods across threads', () => {
  it('never lets a probe of an earlier half-open period judge a new one, however late it ends', async () => {
    const table = createBreakerTable(8);
    const nodes = Array.from({ length: 8 }, (_, i) => ({ id: `n${i}` }));
    const config = { settings: { breakerTickMs: 100, upstreamTimeoutMs: 30_000 }, clusters: { c: { breaker: breakerSchema.parse({}), nodes } } } as unknown as GatewayConfig;
    const clock = { now: 1_000_000 };
    const monitor = new BreakerMonitor(config, { clusters: { c: 0 }, members: { c: nodes.map((_, i) => i) } }, table, createLogger('silent'), () => clock.now, () => 0);
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const workers = [0, 1].map(() => new Worker(HAMMER, { workerData: { buffer: table.buffer, stop: stop.buffer } }));
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));
    const ended = workers.map((w) => new Promise<number>((resolve) => w.once('message', resolve)));
    const tick = (ms: number) => {
      clock.now += ms;
      monitor.tick();
    };
    try {
      for (let i = 0; i < 25; i++) recordBreakerEnding(table, 0, 0, true);
      tick(100);
      expect(breakerState(table, 0)).toBe(BreakerState.Open);
      const judged: BreakerState[] = [];
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        tick(100); // open: late probes of the last period end meanwhile
        tick(70_000); // past any open time: half-open, a new period
        expect(breakerState(table, 0)).toBe(BreakerState.HalfOpen);
        tick(100); // no probe of this period has ended: it must stay half-open
        judged.push(breakerState(table, 0));
        // A probe of this period fails: open again, for the next cycle.
        if (breakerState(table, 0) === BreakerState.HalfOpen) recordProbeEnding(table, 0, probePeriod(table, 0), true);
        else for (let i = 0; i < 25; i++) recordBreakerEnding(table, 0, 0, true);
        tick(100);
      }
      expect(judged.filter((state) => state !== BreakerState.HalfOpen)).toEqual([]);
    } finally {
      Atomics.store(stop, 0, 1);
      const endings = await Promise.all(ended);
      await Promise.all(workers.map((w) => w.terminate()));
      // The late endings did happen: the test would have seen them counted.
      expect(endings.reduce((a, b) => a + b, 0)).toBeGreaterThan(CYCLES);
    }
  });
  it('never lets a probe token given back as a new half-open period begins add to that period\'s tokens', async () => {
    const PROBES = 3;
    const table = createBreakerTable(1);
    beginProbePeriod(table, 0);
    setBreakerState(table, 0, BreakerState.HalfOpen, PROBES);
    const control = new Int32Array(new SharedArrayBuffer(12));
    const worker = new Worker(RETURNER, { workerData: { buffer: table.buffer, control: control.buffer } });
    await new Promise((resolve) => worker.once('message', resolve));
    const deadline = performance.now() + 10_000;
    /** Spins (the worker runs on another core meanwhile) until `done`; false past the deadline. */
    const until = (done: () => boolean): boolean => {
      while (!done()) if (performance.now() > deadline) return false;
      return true;
    };
    const pairsPast = (count: number): (() => boolean) => {
      const from = Atomics.load(control, 2);
      return () => Atomics.load(control, 2) - from >= count;
    };
    const tokensSeen: number[] = [];
    try {
      for (let cycle = 0; cycle < 2_000; cycle++) {
        // The coordinator begins a new period while the worker takes and gives back tokens.
        if (!until(pairsPast(20))) break;
        beginProbePeriod(table, 0);
        setBreakerState(table, 0, BreakerState.HalfOpen, PROBES);
        if (!until(pairsPast(20))) break;
        // Paused, the worker holds no token: every one it took of this period came back.
        const acks = Atomics.load(control, 1);
        Atomics.store(control, 0, 1);
        if (!until(() => Atomics.load(control, 1) !== acks)) break;
        tokensSeen.push(probeTokens(table, 0));
        Atomics.store(control, 0, 0);
      }
    } finally {
      Atomics.store(control, 0, 2);
      await worker.terminate();
    }
    expect(tokensSeen.length).toBeGreaterThan(100);
    expect(tokensSeen.filter((tokens) => tokens !== PROBES)).toEqual([]);
  });
});
