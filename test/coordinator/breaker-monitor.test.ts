import { describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/load.js';
import { fileSchema } from '../../src/config/schema.js';
import { BreakerMonitor } from '../../src/coordinator/breaker-monitor.js';
import { createLogger, type Logger } from '../../src/log.js';
import { BreakerState } from '../../src/resilience/breaker.js';
import { latencyBucket } from '../../src/resilience/latency-histogram.js';
import { NodeDirectory } from '../../src/shm/node-numbering.js';
import { CircuitGate } from '../../src/routing/circuit-gate.js';
import { breakerState, ClusterBreakers, createBreakerTable, probePeriod, probeTokens, recordBreakerEnding, recordProbeEnding, returnProbeToken, type BreakerTable } from '../../src/shm/breaker-table.js';

function setup(breaker: Record<string, unknown> = {}, log: Logger = createLogger('silent')) {
  const file = fileSchema.parse({
    routes: [{ prefix: '/', cluster: 'c' }],
    clusters: { c: { nodes: ['n0', 'n1', 'n2'].map((id, i) => ({ id, url: `http://127.0.0.1:${9000 + i}` })), breaker: { openMs: 1000, ...breaker } } },
  });
  const config = { source: 'test', settings: { breakerTickMs: 100, upstreamTimeoutMs: 30_000 }, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
  const numbering = new NodeDirectory(4, 1).number(config.clusters);
  const table = createBreakerTable(4);
  const clock = { now: 0 };
  const monitor = new BreakerMonitor(config, numbering, table, log, () => clock.now, () => 0);
  /** One tick of traffic: `answers` answers per node at `ms`, `failing[i]` of node i's failed. */
  const tick = (answers: number, ms: number, failing: number[] = [0, 0, 0]) => {
    for (let node = 0; node < 3; node++) {
      for (let i = 0; i < answers; i++) recordBreakerEnding(table, node, latencyBucket(ms), i < failing[node]!);
    }
    clock.now += 100;
    monitor.tick();
  };
  return { table, monitor, tick, config, numbering };
}

const states = (table: BreakerTable) => [0, 1, 2].map((node) => breakerState(table, node));

describe('breaker monitor', () => {
  it("opens the node whose answers fail, half-opens it with its probe tokens, and closes it on the probes' answers", () => {
    const { table, monitor, tick } = setup();
    tick(30, 1, [0, 20, 0]);
    expect(states(table)).toEqual([BreakerState.Closed, BreakerState.Open, BreakerState.Closed]);
    for (let i = 0; i < 10; i++) tick(0, 1);
    expect(breakerState(table, 1)).toBe(BreakerState.HalfOpen);
    expect(probeTokens(table, 1)).toBe(3);
    // A late failure of a request sent before it opened is no probe's: it stays half-open.
    recordBreakerEnding(table, 1, latencyBucket(900), true);
    tick(0, 1);
    expect(breakerState(table, 1)).toBe(BreakerState.HalfOpen);
    for (let i = 0; i < 3; i++) {
      recordBreakerEnding(table, 1, latencyBucket(1), false);
      recordProbeEnding(table, 1, probePeriod(table, 1), false);
    }
    tick(0, 1);
    expect(breakerState(table, 1)).toBe(BreakerState.Closed);
    expect(Object.fromEntries(monitor.transitions)).toEqual({ 'closed>open': 1, 'open>half_open': 1, 'half_open>closed': 1 });
    expect(monitor.views().map((v) => v.state)).toEqual(['closed', 'closed', 'closed']);
  });

  it('never lets a probe token of one half-open period add to the next one, whenever that period begins', () => {
    const { table, tick } = setup();
    tick(30, 1, [0, 20, 0]);
    while (breakerState(table, 1) !== BreakerState.HalfOpen) tick(0, 1);
    /** The coordinator's ticks run between an acceptor's steps: right after it took its token. */
    let meanwhile = (): void => {};
    class Interleaved extends ClusterBreakers {
      override takeProbe(member: number, period: number): number {
        const took = super.takeProbe(member, period);
        meanwhile();
        return took;
      }
    }
    const gate = new CircuitGate(new Interleaved(table, [0, 1, 2]), null);
    const before = probePeriod(table, 1);
    meanwhile = () => {
      meanwhile = () => {};
      // Another probe of the period fails: the node opens, then half-opens again with a new period.
      recordProbeEnding(table, 1, probePeriod(table, 1), true);
      tick(0, 1);
      while (breakerState(table, 1) !== BreakerState.HalfOpen) tick(0, 1);
    };
    expect(gate.admit(1)).toBe(true);
    expect(probePeriod(table, 1)).toBe(before + 1);
    // The probe it sent says nothing of the node (its client left): its token was of the old period.
    returnProbeToken(table, 1, gate.probePeriod, gate.probeRefill);
    expect(probeTokens(table, 1)).toBe(3);
    const admitted = Array.from({ length: 5 }, () => gate.admit(1) && gate.tookProbe);
    expect(admitted).toEqual([true, true, true, false, false]);
  });

  it('never lets a probe token taken before the refill of lost probes add to the tokens it hands out', () => {
    const { table, tick } = setup();
    tick(30, 1, [0, 20, 0]);
    while (breakerState(table, 1) !== BreakerState.HalfOpen) tick(0, 1);
    const gate = new CircuitGate(new ClusterBreakers(table, [0, 1, 2]), null);
    const taken = Array.from({ length: 3 }, () => (gate.admit(1) && gate.tookProbe ? { period: gate.probePeriod, refill: gate.probeRefill } : null));
    expect(probeTokens(table, 1)).toBe(0);
    // None ends within the upstream timeout: the monitor hands out the tokens owed again.
    for (let i = 0; i < 400 && probeTokens(table, 1) === 0; i++) tick(0, 1);
    expect([breakerState(table, 1), probeTokens(table, 1)]).toEqual([BreakerState.HalfOpen, 3]);
    // A probe sent before then ends saying nothing of the node (its client left): its token adds
    // nothing, or the node would take four probes at once.
    returnProbeToken(table, 1, taken[0]!.period, taken[0]!.refill);
    expect(probeTokens(table, 1)).toBe(3);
    const admitted = Array.from({ length: 4 }, () => gate.admit(1) && gate.tookProbe);
    expect(admitted).toEqual([true, true, true, false]);
    // One taken after the refill gives its token back.
    returnProbeToken(table, 1, gate.probePeriod, gate.probeRefill);
    expect(probeTokens(table, 1)).toBe(1);
  });

  it("compares each node's p99 with its cluster's: the slow node opens, a slowdown of all opens none", () => {
    const { table, tick } = setup();
    for (let i = 0; i < 10; i++) tick(30, 2);
    for (let i = 0; i < 10; i++) tick(30, 40);
    expect(states(table)).toEqual([BreakerState.Closed, BreakerState.Closed, BreakerState.Closed]);
    const opened: Record<string, unknown>[] = [];
    const log = { warn: (fields: Record<string, unknown>, msg: string) => msg === 'circuit breaker opened' && opened.push(fields), info: () => {}, error: () => {} } as unknown as Logger;
    const slow = setup({}, log);
    for (let i = 0; i < 10; i++) slow.tick(30, 2);
    for (let i = 0; i < 5; i++) {
      for (let node = 0; node < 3; node++) for (let j = 0; j < 30; j++) recordBreakerEnding(slow.table, node, latencyBucket(node === 2 ? 80 : 2), false);
      slow.tick(0, 1);
    }
    expect(states(slow.table)).toEqual([BreakerState.Closed, BreakerState.Closed, BreakerState.Open]);
    // The log says which p99 opened it (opening forgets it).
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ node: 'n2' });
    expect(opened[0]!.p99Ms).toBeGreaterThanOrEqual(40);
  });

  it('keeps a node\'s breaker across a reload unless its url changed, and closes every breaker of a cluster that turns them off', () => {
    const { table, monitor, tick, config, numbering } = setup();
    tick(30, 1, [20, 0, 0]);
    expect(breakerState(table, 0)).toBe(BreakerState.Open);
    monitor.reconfigure(config, numbering);
    expect(breakerState(table, 0)).toBe(BreakerState.Open);
    // Another backend under n0's id: a breaker of its own, closed.
    const cluster = config.clusters.c!;
    const moved = { ...config, clusters: { c: { ...cluster, nodes: cluster.nodes.map((n) => (n.id === 'n0' ? { ...n, url: 'http://127.0.0.1:9100' } : n)) } } };
    const period = probePeriod(table, 0);
    monitor.reconfigure(moved, numbering);
    expect(breakerState(table, 0)).toBe(BreakerState.Closed);
    // A new period: tries sent to the old url, ending now, count in nothing (finish.ts).
    expect(probePeriod(table, 0)).toBe(period + 1);
    tick(30, 1, [20, 0, 0]);
    expect(breakerState(table, 0)).toBe(BreakerState.Open);
    const off = { ...config, clusters: { c: { ...config.clusters.c!, breaker: { ...config.clusters.c!.breaker, enabled: false } } } };
    monitor.reconfigure(off, numbering);
    expect(breakerState(table, 0)).toBe(BreakerState.Closed);
    expect(monitor.views()).toEqual([]);
  });
});
