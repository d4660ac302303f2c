import { beforeAll, describe, expect, it } from 'vitest';
import { loadHash32 } from '../../src/hash.js';
import type { Hash32 } from '../../src/routing/ring.js';
import { clusterPanic, servingNodes, zoneFallback } from '../../src/shm/node-table.js';
import { zonedMonitor } from '../helpers/zoned-monitor.js';

let hash32: Hash32;
beforeAll(async () => {
  hash32 = await loadHash32();
});

function setup(ids: string[], zoned: boolean, breakerOpen?: (index: number) => boolean) {
  const { table, monitor } = zonedMonitor(hash32, ids, zoned, breakerOpen);
  monitor.settle();
  return { table, monitor, serving: () => servingNodes(table, 0) };
}

describe("the nodes a cluster's load bound takes its mean over", () => {
  it('are the healthy ones: a node that fails its checks leaves the count, and comes back to it', () => {
    const { monitor, serving } = setup(['a0', 'a1', 'a2', 'a3'], false);
    expect(serving()).toBe(4);
    monitor.recordCheck(1, false);
    expect(serving()).toBe(3);
    monitor.recordCheck(1, true);
    expect(serving()).toBe(4);
  });

  it("are the gateway's zone's with hard affinity, every zone's once the cluster falls back", () => {
    const { table, monitor, serving } = setup(['a0', 'a1', 'a2', 'b0', 'b1', 'b2'], true);
    expect(serving()).toBe(3);
    monitor.recordCheck(0, false);
    expect(serving()).toBe(2);
    // Every local node down: the other zone serves, and its three count.
    monitor.recordCheck(1, false);
    monitor.recordCheck(2, false);
    expect(zoneFallback(table, 0)).toBe(true);
    expect(serving()).toBe(3);
  });

  it('leave out a node whose breaker is not closed, at the next window', () => {
    const open = new Set<number>();
    const { monitor, serving } = setup(['a0', 'a1', 'a2'], false, (index) => open.has(index));
    open.add(2);
    monitor.tick();
    expect(serving()).toBe(2);
  });

  it('are every node while the cluster is in panic mode: the selection then takes the unhealthy ones too', () => {
    const { table, monitor, serving } = setup(['a0', 'a1', 'a2', 'a3'], false);
    for (const node of [0, 1, 2]) monitor.recordCheck(node, false);
    expect(clusterPanic(table, 0)).toBe(true);
    expect(serving()).toBe(4);
  });
});
