import { beforeAll, describe, expect, it } from 'vitest';
import { fileSchema } from '../../src/config/schema.js';
import type { GatewayConfig } from '../../src/config/load.js';
import { NodeMonitor } from '../../src/coordinator/node-monitor.js';
import { createClusterRing } from '../../src/coordinator/rings.js';
import { loadHash32 } from '../../src/hash.js';
import { createLogger } from '../../src/log.js';
import type { Hash32 } from '../../src/routing/ring.js';
import { NodeDirectory } from '../../src/shm/node-numbering.js';
import { createNodeTable, initNode } from '../../src/shm/node-table.js';
import { activePointCount } from '../../src/shm/ring-buffer.js';

let hash32: Hash32;
beforeAll(async () => {
  hash32 = await loadHash32();
});

/** Cluster c with `count` nodes of weight 1 (150 points each), slow start over 60 s. */
function configWith(count: number): GatewayConfig {
  const file = fileSchema.parse({
    routes: [{ prefix: '/', cluster: 'c' }],
    clusters: { c: { nodes: Array.from({ length: count }, (_, i) => ({ id: `n${i}`, url: `http://127.0.0.1:${9000 + i}` })), slowStartMs: 60_000 } },
  });
  return { source: 'test', settings: {}, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
}

describe('rings after a reload', () => {
  it('hold the weights the monitor wants before the acceptors are told, however large the ring', async () => {
    const table = createNodeTable(128, 2, 1);
    const directory = new NodeDirectory(128, 2);
    const before = configWith(101);
    const numbering = directory.number(before.clusters);
    for (const { node, cluster } of numbering.added) initNode(table, node, cluster);
    const monitor = new NodeMonitor(before, numbering, table, new Map([['c', createClusterRing(before.clusters.c!.nodes, hash32)]]), hash32, createLogger('silent'), () => 1_000_000);
    try {
      // n101 joins: the new ring (15,300 points, over the worker's threshold) is built from the
      // config's weights, and slow start wants far fewer points for n101 at first.
      const after = configWith(102);
      const renumbered = directory.number(after.clusters);
      for (const { node, cluster } of renumbered.added) initNode(table, node, cluster);
      const ring = createClusterRing(after.clusters.c!.nodes, hash32);
      expect(activePointCount(ring.shared)).toBe(102 * 150);
      // The reloader tells the acceptors right after this returns: the ring must be the wanted one by then.
      monitor.reconfigure(after, renumbered, new Map([['c', ring]]));
      const wanted = monitor.views().reduce((sum, view) => sum + view.points, 0);
      expect(wanted).toBeLessThan(102 * 150);
      expect(activePointCount(ring.shared)).toBe(wanted);
    } finally {
      await monitor.stop();
    }
  });
});
