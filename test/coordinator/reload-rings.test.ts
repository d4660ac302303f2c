import { beforeAll, describe, expect, it } from 'vitest';
import { fileSchema } from '../../src/config/schema.js';
import type { GatewayConfig } from '../../src/config/load.js';
import { NodeMonitor } from '../../src/coordinator/node-monitor.js';
import { createClusterRing } from '../../src/coordinator/rings.js';
import { loadHash32 } from '../../src/hash.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { Hash32 } from '../../src/routing/ring.js';
import { NodeDirectory } from '../../src/shm/node-numbering.js';
import { createNodeTable, initNode } from '../../src/shm/node-table.js';
import { activePointCount } from '../../src/shm/ring-buffer.js';

let hash32: Hash32;
beforeAll(async () => {
  hash32 = await loadHash32();
});

/** Cluster c with nodes of `weights`; `slowStartMs` when given. */
function weighted(weights: number[], slowStartMs?: number): GatewayConfig {
  const file = fileSchema.parse({
    routes: [{ prefix: '/', cluster: 'c' }],
    clusters: { c: { nodes: weights.map((weight, i) => ({ id: `n${i}`, url: `http://127.0.0.1:${9000 + i}`, weight })), ...(slowStartMs === undefined ? {} : { slowStartMs }) } },
  });
  return { source: 'test', settings: {}, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
}

/** Cluster c with `count` nodes of weight 1 (150 points each), slow start over 60 s. */
const configWith = (count: number): GatewayConfig => weighted(new Array<number>(count).fill(1), 60_000);

/**
 * A node monitor on `config` over a table of `capacity` slots, and `next(config)`: the slots and a
 * new ring for a reloaded config, as topology.ts makes them before the monitor is reconfigured.
 */
function monitored(config: GatewayConfig, capacity: number, log: Logger = createLogger('silent')) {
  const table = createNodeTable(capacity, 2, 1);
  const directory = new NodeDirectory(capacity, 2);
  const next = (reloaded: GatewayConfig) => {
    const numbering = directory.number(reloaded.clusters);
    for (const { node, cluster } of numbering.added) initNode(table, node, cluster);
    return { numbering, ring: createClusterRing(reloaded.clusters.c!.nodes, hash32) };
  };
  const { numbering, ring } = next(config);
  const monitor = new NodeMonitor(config, numbering, table, new Map([['c', ring]]), hash32, log, () => 1_000_000);
  return { monitor, numbering, next };
}

describe('rings after a reload', () => {
  it('hold the weights the monitor wants before the acceptors are told, however large the ring', async () => {
    const { monitor, next } = monitored(configWith(101), 128);
    try {
      // n101 joins: the new ring (15,300 points, over the worker's threshold) is built from the
      // config's weights, and slow start wants far fewer points for n101 at first.
      const after = configWith(102);
      const { numbering, ring } = next(after);
      expect(activePointCount(ring.shared)).toBe(102 * 150);
      // The reloader tells the acceptors right after this returns: the ring must be the wanted one by then.
      monitor.reconfigure(after, numbering, new Map([['c', ring]]));
      const wanted = monitor.views().reduce((sum, view) => sum + view.points, 0);
      expect(wanted).toBeLessThan(102 * 150);
      expect(activePointCount(ring.shared)).toBe(wanted);
    } finally {
      await monitor.stop();
    }
  });
});

describe('rings after a node change', () => {
  it('keep the points of the nodes that stay, and a republish moves only the node past the threshold', async () => {
    const { monitor, numbering, next } = monitored(configWith(4), 16);
    const points = () => Object.fromEntries(monitor.views().map((view) => [view.node, view.points]));
    const n0 = numbering.members.c![0]!;
    const n1 = numbering.members.c![1]!;
    try {
      monitor.settle();
      // n0's cache hit rate 0 → 98 points (past the threshold: republished); then 0.1 → wants 103,
      // within 10% of 98: the ring keeps 98, and so do n0's keys.
      monitor.applyPush([{ index: n0, cacheHitRate: 0 }], 60_000);
      monitor.applyPush([{ index: n0, cacheHitRate: 0.1 }], 60_000);
      expect(points()).toEqual({ n0: 98, n1: 150, n2: 150, n3: 150 });

      // n4 joins (slow start: 30 points): the others keep theirs, so only keys moving to n4 move.
      const added = configWith(5);
      const withN4 = next(added);
      monitor.reconfigure(added, withN4.numbering, new Map([['c', withN4.ring]]));
      expect(points()).toEqual({ n0: 98, n1: 150, n2: 150, n3: 150, n4: 30 });

      // n3 leaves: only its keys move.
      const removed = { ...added, clusters: { c: { ...added.clusters.c!, nodes: added.clusters.c!.nodes.filter((node) => node.id !== 'n3') } } } as GatewayConfig;
      const withoutN3 = next(removed);
      monitor.reconfigure(removed, withoutN3.numbering, new Map([['c', withoutN3.ring]]));
      expect(points()).toEqual({ n0: 98, n1: 150, n2: 150, n4: 30 });

      // n1 moves past the threshold: its republish leaves n0's held 98 as it is.
      monitor.applyPush([{ index: n1, cacheHitRate: 0.2 }], 60_000);
      expect(points()).toEqual({ n0: 98, n1: 108, n2: 150, n4: 30 });
    } finally {
      await monitor.stop();
    }
  });
});

describe('rings after a reload that lowers a weight within the threshold', () => {
  it('hold no node above its new weight, and keep a node that is down off the ring the acceptors are given', async () => {
    const errors: string[] = [];
    const log = { error: (_fields: unknown, msg: string) => errors.push(msg), warn: () => {}, info: () => {} } as unknown as Logger;
    const { monitor, numbering, next } = monitored(weighted([10, 10, 0.5]), 16, log);
    try {
      monitor.settle();
      monitor.applyPush([{ index: numbering.members.c![2]!, health: 0 }], 60_000);
      expect(monitor.views().map((v) => v.points)).toEqual([1500, 1500, 0]);
      // n0's weight 10 -> 9.4: a new ring sized for 1,410 + 1,500 + 75 points. Holding n0 at
      // 1,500 would not fit: the build would fail and leave the config-weight ring, n2 on it.
      const after = weighted([9.4, 10, 0.5]);
      const { numbering: renumbered, ring } = next(after);
      monitor.reconfigure(after, renumbered, new Map([['c', ring]]));
      // A failed build is logged once its promise settles: a turn of the loop.
      await new Promise((resolve) => setImmediate(resolve));
      expect(errors).toEqual([]);
      expect(monitor.views().map((v) => v.points)).toEqual([1410, 1500, 0]);
      expect(Array.from(ring.data.owners).filter((owner) => owner === 2)).toHaveLength(0);
    } finally {
      await monitor.stop();
    }
  });
});
