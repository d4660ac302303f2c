import { fileSchema } from '../../src/config/schema.js';
import type { GatewayConfig } from '../../src/config/load.js';
import { NodeMonitor } from '../../src/coordinator/node-monitor.js';
import { createClusterRing } from '../../src/coordinator/rings.js';
import { createLogger } from '../../src/log.js';
import type { Hash32 } from '../../src/routing/ring.js';
import { NodeDirectory } from '../../src/shm/node-numbering.js';
import { createNodeTable, initNode } from '../../src/shm/node-table.js';

/**
 * A node monitor over one cluster `c` of `ids` (a node's zone is its id's first letter: `a0` is in
 * az-a) with active checks that flip a node at one result; the gateway in zone az-a with hard
 * affinity when `zoned`, else no zone. Its clock stands at 0.
 */
export function zonedMonitor(hash32: Hash32, ids: readonly string[], zoned: boolean, breakerOpen: (index: number) => boolean = () => false) {
  const file = fileSchema.parse({
    routes: [{ prefix: '/', cluster: 'c' }],
    clusters: {
      c: {
        nodes: ids.map((id, i) => ({ id, url: `http://127.0.0.1:${9000 + i}`, az: `az-${id[0]}` })),
        healthCheck: { path: '/health', unhealthyThreshold: 1, healthyThreshold: 1 },
      },
    },
  });
  const settings = zoned ? { zone: 'az-a', zoneAffinity: 'hard', zoneFallbackHealth: 0.2, zoneCosts: {}, otherZoneCost: 2.5 } : {};
  const config = { source: 'test', settings, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
  const table = createNodeTable(ids.length, 1, 1);
  const numbering = new NodeDirectory(ids.length, 1).number(config.clusters);
  for (const { node, cluster } of numbering.added) initNode(table, node, cluster);
  const rings = new Map([['c', createClusterRing(config.clusters.c!.nodes, hash32)]]);
  const monitor = new NodeMonitor(config, numbering, table, rings, hash32, createLogger('silent'), () => 0, undefined, () => 0, breakerOpen);
  return { table, monitor };
}
