import { beforeAll, describe, expect, it } from 'vitest';
import { fileSchema } from '../../src/config/schema.js';
import type { GatewayConfig } from '../../src/config/load.js';
import { NodeMonitor } from '../../src/coordinator/node-monitor.js';
import { createClusterRing } from '../../src/coordinator/rings.js';
import { loadHash32 } from '../../src/hash.js';
import { createLogger } from '../../src/log.js';
import type { Hash32 } from '../../src/routing/ring.js';
import { NodeDirectory } from '../../src/shm/node-numbering.js';
import { clusterPanic, createNodeTable, initNode, servingNodes, zoneFallback } from '../../src/shm/node-table.js';

let hash32: Hash32;
beforeAll(async () => {
  hash32 = await loadHash32();
});

/**
 * A cluster of `ids` (a node's zone is its id's first letter) with active checks that flip a node
 * at one result; the gateway in zone az-a with hard affinity when `zone`.
 */
function setup(ids: string[], zone: boolean, breakerOpen: (index: number) => boolean = () => false) {
  const file = fileSchema.parse({
    routes: [{ prefix: '/', cluster: 'c' }],
    clusters: {
      c: {
        nodes: ids.map((id, i) => ({ id, url: `http://127.0.0.1:${9000 + i}`, az: `az-${id[0]}` })),
        healthCheck: { path: '/health', unhealthyThreshold: 1, healthyThreshold: 1 },
      },
    },
  });
  const settings = zone ? { zone: 'az-a', zoneAffinity: 'hard', zoneFallbackHealth: 0.2, zoneCosts: {}, otherZoneCost: 2.5 } : {};
  const config = { source: 'test', settings, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
  const table = createNodeTable(ids.length, 1, 1);
  const numbering = new NodeDirectory(ids.length, 1).number(config.clusters);
  for (const { node, cluster } of numbering.added) initNode(table, node, cluster);
  const rings = new Map([['c', createClusterRing(config.clusters.c!.nodes, hash32)]]);
  const monitor = new NodeMonitor(config, numbering, table, rings, hash32, createLogger('silent'), () => 0, undefined, () => 0, breakerOpen);
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
