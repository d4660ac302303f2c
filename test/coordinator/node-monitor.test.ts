import { beforeAll, describe, expect, it } from 'vitest';
import { fileSchema } from '../../src/config/schema.js';
import type { GatewayConfig } from '../../src/config/load.js';
import { NodeMonitor } from '../../src/coordinator/node-monitor.js';
import { createClusterRing } from '../../src/coordinator/rings.js';
import { loadHash32 } from '../../src/hash.js';
import { createLogger } from '../../src/log.js';
import type { Hash32 } from '../../src/routing/ring.js';
import { NodeDirectory } from '../../src/shm/node-numbering.js';
import {
  clusterPanic,
  createNodeTable,
  initNode,
  finishNodeRequest,
  NODE_WORDS,
  NODES_OFFSET,
  REQUESTS,
  NodeOutcome,
  nodeHealth,
  readNodeCounters,
  zoneFallback,
  recordCacheLookup,
  recordNodeOutcome,
  startNodeRequest,
  type NodeTable,
} from '../../src/shm/node-table.js';
import { activePointCount } from '../../src/shm/ring-buffer.js';
import { zonedMonitor } from '../helpers/zoned-monitor.js';

let hash32: Hash32;
beforeAll(async () => {
  hash32 = await loadHash32();
});

/** Three nodes in cluster c; active checks when `checks`; slow start over 4 s; passive health alone unless `breaker`. */
function setup(checks: boolean, breaker = false) {
  const file = fileSchema.parse({
    routes: [{ prefix: '/', cluster: 'c' }],
    clusters: {
      c: {
        nodes: ['n0', 'n1', 'n2'].map((id, i) => ({ id, url: `http://127.0.0.1:${9000 + i}` })),
        slowStartMs: 4000,
        breaker: { enabled: breaker },
        ...(checks ? { healthCheck: { path: '/health', unhealthyThreshold: 2, healthyThreshold: 2 } } : {}),
      },
    },
  });
  const config = { source: 'test', settings: {}, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
  const table = createNodeTable(4, 2, 1);
  const numbering = new NodeDirectory(4, 2).number(config.clusters);
  for (const { node, cluster } of numbering.added) initNode(table, node, cluster);
  const rings = new Map([['c', createClusterRing(config.clusters.c!.nodes, hash32)]]);
  const clock = { now: 1_000_000 };
  const monitor = new NodeMonitor(config, numbering, table, rings, hash32, createLogger('silent'), () => clock.now);
  const points = () => monitor.views().map((v) => v.points);
  return { table, ring: rings.get('c')!, clock, monitor, points };
}

/** Like setup(true), also returning what a reload needs. */
function setupWithConfig() {
  const file = fileSchema.parse({
    routes: [{ prefix: '/', cluster: 'c' }],
    clusters: {
      c: {
        nodes: ['n0', 'n1', 'n2'].map((id, i) => ({ id, url: `http://127.0.0.1:${9000 + i}` })),
        healthCheck: { path: '/health', unhealthyThreshold: 2, healthyThreshold: 2 },
      },
    },
  });
  const config = { source: 'test', settings: {}, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
  const table = createNodeTable(4, 2, 1);
  const directory = new NodeDirectory(4, 2);
  const numbering = directory.number(config.clusters);
  for (const { node, cluster } of numbering.added) initNode(table, node, cluster);
  const rings = new Map([['c', createClusterRing(config.clusters.c!.nodes, hash32)]]);
  const monitor = new NodeMonitor(config, numbering, table, rings, hash32, createLogger('silent'), () => 1_000_000);
  return { table, monitor, config, numbering, directory, ring: rings.get('c')! };
}

function withNodes(config: GatewayConfig, ids: string[]): GatewayConfig {
  const cluster = config.clusters.c!;
  return { ...config, clusters: { c: { ...cluster, nodes: cluster.nodes.filter((node) => ids.includes(node.id)) } } };
}

/** `count` requests to `node`, each ending as `outcome`. */
function traffic(table: NodeTable, node: number, count: number, outcome: NodeOutcome): void {
  for (let i = 0; i < count; i++) {
    startNodeRequest(table, 0, node, 0);
    finishNodeRequest(table, 0, node, 0);
    recordNodeOutcome(table, node, outcome);
  }
}

describe('node monitor', () => {
  it('takes a node whose checks fail out of routing and the ring, and ramps it back in steps once they pass', () => {
    const { table, ring, clock, monitor, points } = setup(true);
    expect(points()).toEqual([150, 150, 150]);
    monitor.recordCheck(1, false);
    expect(nodeHealth(table, 1)).toBe(1); // one failure is not two
    monitor.recordCheck(1, false);
    expect(nodeHealth(table, 1)).toBe(0);
    expect(points()).toEqual([150, 0, 150]);
    expect(activePointCount(ring.shared)).toBe(300);
    expect(ring.data.owners.includes(1)).toBe(false);
    expect(monitor.views()[1]).toMatchObject({ reason: 'check-failing', activeCheck: 'failing', health: 0 });
    expect(monitor.rebuilds).toBe(1);
    expect(monitor.recentRebuilds()).toEqual([{ kind: 'ring', at: clock.now, cluster: 'c', moved: 1, moves: [{ node: 'n1', from: 150, to: 0 }] }]);

    monitor.recordCheck(1, true);
    monitor.recordCheck(1, true);
    expect(nodeHealth(table, 1)).toBe(1);
    expect(points()).toEqual([150, 30, 150]); // 20% of its weight at first
    const seen = [30];
    for (let t = 0; t <= 4000; t += 250) {
      clock.now += 250;
      monitor.tick();
      if (points()[1] !== seen.at(-1)) seen.push(points()[1]!);
    }
    expect(seen).toEqual([30, 60, 90, 120, 150]);
    expect(monitor.rebuilds).toBe(2 + 4); // out, back at 20%, then one per step
    // Each republish names the node whose points moved, oldest first.
    expect(monitor.recentRebuilds().map(({ moves }) => moves.map(({ from, to }) => `${from}→${to}`).join())).toEqual([
      '150→0',
      '0→30',
      '30→60',
      '60→90',
      '90→120',
      '120→150',
    ]);
  });

  it("leaves a node's 5xx to its cluster's circuit breaker when it has one", () => {
    const { table, monitor } = setup(false, true);
    traffic(table, 1, 10, NodeOutcome.Answered);
    traffic(table, 1, 20, NodeOutcome.Failed);
    monitor.tick();
    expect(monitor.views().map((v) => v.reason)).toEqual(['healthy', 'healthy', 'healthy']);
  });

  it('penalizes a node answering over 10% 5xx, keeps the others, and leaves the ring alone while shares hold', () => {
    const { table, monitor, points } = setup(false);
    traffic(table, 0, 30, NodeOutcome.Answered);
    traffic(table, 1, 20, NodeOutcome.Answered);
    traffic(table, 1, 10, NodeOutcome.Failed); // 1 in 3: past the noise of a 30-request window
    traffic(table, 2, 30, NodeOutcome.Answered);
    monitor.tick();
    expect(monitor.views().map((v) => v.reason)).toEqual(['healthy', '5xx-rate', 'healthy']);
    expect(nodeHealth(table, 1)).toBeLessThan(0.3);
    expect(points()).toEqual([150, 0, 150]);
    // A quiet window changes nothing: no republish without a change past the threshold.
    monitor.tick();
    expect(monitor.rebuilds).toBe(1);
  });

  it('marks a node down at once after 5 connection failures in a row, and starts the acceptors\' streak over', () => {
    const { table, monitor } = setup(false);
    traffic(table, 2, 4, NodeOutcome.ConnectFailed);
    traffic(table, 2, 1, NodeOutcome.Answered); // an answer ends the streak
    traffic(table, 2, 4, NodeOutcome.ConnectFailed);
    monitor.tick();
    expect(nodeHealth(table, 2)).toBe(1);
    traffic(table, 2, 1, NodeOutcome.ConnectFailed);
    monitor.tick();
    expect(nodeHealth(table, 2)).toBe(0);
    expect(monitor.views()[2]).toMatchObject({ reason: 'connect-failures', points: 0 });
    const counters = { requests: 0, failures: 0, connectFailures: 0, connectStreak: 0, cacheLookups: 0, cacheHits: 0 };
    readNodeCounters(table, 2, counters);
    expect(counters).toMatchObject({ connectFailures: 9, connectStreak: 0 });
    // The next tick reads a fresh streak of 0: the down mark, not the counter, keeps it out.
    monitor.tick();
    expect(nodeHealth(table, 2)).toBe(0);
  });

  it('weighs a node by the cache hit rate its answers report, and lets a fresh push override it', () => {
    const { table, clock, monitor, points } = setup(false);
    for (let i = 0; i < 30; i++) recordCacheLookup(table, 0, false);
    for (let i = 0; i < 30; i++) recordCacheLookup(table, 1, i % 2 === 0);
    for (let i = 0; i < 10; i++) recordCacheLookup(table, 2, false); // under 20 lookups: says nothing yet
    monitor.tick();
    // weight = 0.4 × health + 0.35 × locality + 0.25 / azCost
    expect(points()).toEqual([Math.ceil(150 * 0.65), Math.ceil(150 * (0.65 + 0.35 / 2)), 150]);
    monitor.applyPush([{ index: 0, cacheHitRate: 1 }], 5_000);
    expect(points()[0]).toBe(150);
    clock.now += 5_001;
    monitor.tick();
    expect(points()[0]).toBe(Math.ceil(150 * 0.65));
  });

  it('takes a node that refused one connection out at once: nothing listens there', () => {
    const { table, monitor } = setup(false);
    startNodeRequest(table, 0, 1, 0);
    finishNodeRequest(table, 0, 1, 0);
    recordNodeOutcome(table, 1, NodeOutcome.ConnectFailed, 5);
    monitor.tick();
    expect(monitor.views()[1]).toMatchObject({ reason: 'connect-failures', health: 0 });
  });

  it('carries a staying node\'s health over a reload, gives a re-added node its counters back, and resets a re-added cluster', () => {
    const { table, monitor, config, numbering, directory, ring } = setupWithConfig();
    monitor.recordCheck(1, false);
    monitor.recordCheck(1, false);
    expect(nodeHealth(table, 1)).toBe(0);
    traffic(table, 2, 30, NodeOutcome.Failed);
    // n2 leaves, then comes back: its 30 old failures must not count as a window of its own.
    const without = withNodes(config, ['n0', 'n1']);
    monitor.reconfigure(without, directory.number(without.clusters), new Map([['c', ring]]));
    const back = withNodes(config, ['n0', 'n1', 'n2']);
    const again = directory.number(back.clusters);
    expect(again.members.c).toEqual(numbering.members.c);
    monitor.reconfigure(back, again, new Map([['c', ring]]));
    expect(nodeHealth(table, 1)).toBe(0); // n1 stayed: still failing its checks
    traffic(table, 2, 30, NodeOutcome.Answered);
    monitor.tick();
    expect(monitor.views()[2]).toMatchObject({ reason: 'healthy', health: 1 });
  });

  it('starts a node whose url a reload changed afresh, and drops the zone cost pushed for one it moved to another zone', () => {
    const { table, monitor, config, directory, ring } = setupWithConfig();
    monitor.recordCheck(1, false);
    monitor.recordCheck(1, false);
    expect(nodeHealth(table, 1)).toBe(0);
    const cluster = config.clusters.c!;
    const moved = { ...config, clusters: { c: { ...cluster, nodes: cluster.nodes.map((n) => (n.id === 'n1' ? { ...n, url: 'http://127.0.0.1:9100' } : n)) } } };
    monitor.reconfigure(moved, directory.number(moved.clusters), new Map([['c', ring]]));
    monitor.tick();
    expect(monitor.views()[1]).toMatchObject({ url: 'http://127.0.0.1:9100', reason: 'healthy', health: 1 });
    // One that stays where it was keeps what is known of it.
    monitor.recordCheck(2, false);
    monitor.recordCheck(2, false);
    monitor.reconfigure(moved, directory.number(moved.clusters), new Map([['c', ring]]));
    monitor.tick();
    expect(monitor.views()[2]).toMatchObject({ health: 0 });
    // A zone cost pushed for a node was its zone's: a reload that moves it to another zone drops it.
    monitor.applyPush([{ index: 0, azCost: 50 }], 60_000);
    const pushedWeight = monitor.views()[0]!.weight;
    const rezoned = { ...moved, clusters: { c: { ...moved.clusters.c, nodes: moved.clusters.c.nodes.map((n) => (n.id === 'n0' ? { ...n, az: 'elsewhere' } : n)) } } };
    monitor.reconfigure(rezoned, directory.number(rezoned.clusters), new Map([['c', ring]]));
    monitor.tick();
    expect(monitor.views()[0]!.weight).toBeGreaterThan(pushedWeight + 0.2);
  });

  it("counts a node's requests past the 2^32 at which its shared word wraps, never falling back", () => {
    const { table, monitor } = setup(false);
    const requests = () => monitor.views().find((view) => view.node === 'n0')!;
    const { index } = requests();
    // Three short of the wrap, as after four billion requests.
    Atomics.store(table.words, NODES_OFFSET + index * NODE_WORDS + REQUESTS, (2 ** 32 - 3) | 0);
    monitor.tick();
    expect(requests().requests).toBe(2 ** 32 - 3);
    const five = () => {
      for (let i = 0; i < 5; i++) {
        startNodeRequest(table, 0, index, 0);
        finishNodeRequest(table, 0, index, 0);
      }
    };
    // Read between two windows and after them: the same count, the word now at 2.
    five();
    expect(Atomics.load(table.words, NODES_OFFSET + index * NODE_WORDS + REQUESTS)).toBe(2);
    expect(requests().requests).toBe(2 ** 32 + 2);
    monitor.tick();
    expect(requests().requests).toBe(2 ** 32 + 2);
    five();
    monitor.tick();
    expect(requests().requests).toBe(2 ** 32 + 7);
  });

  it('enters panic mode when fewer than half the nodes are healthy, keeping every node on the ring', () => {
    const { table, monitor, points } = setup(true);
    for (const node of [0, 1]) {
      monitor.recordCheck(node, false);
      monitor.recordCheck(node, false);
    }
    expect(clusterPanic(table, 0)).toBe(true);
    expect(monitor.panicActivations).toBe(1);
    // Everyone on the ring: the two unhealthy nodes at the weight of the lowest usable health.
    expect(points().every((p) => p > 0)).toBe(true);
    monitor.recordCheck(0, true);
    monitor.recordCheck(0, true);
    expect(clusterPanic(table, 0)).toBe(false);
    expect(points()[1]).toBe(0);
  });
});

describe('panic mode with zone affinity', () => {
  it('is decided over the local nodes while the gateway\'s zone serves, not over every zone', () => {
    const file = fileSchema.parse({
      routes: [{ prefix: '/', cluster: 'c' }],
      clusters: {
        c: {
          nodes: ['a0', 'a1', 'b0', 'b1'].map((id, i) => ({ id, url: `http://127.0.0.1:${9000 + i}`, az: `az-${id[0]}` })),
          healthCheck: { path: '/health', unhealthyThreshold: 1, healthyThreshold: 1 },
        },
      },
    });
    const config = { source: 'test', settings: { zone: 'az-a', zoneAffinity: 'hard', zoneFallbackHealth: 0.2, zoneCosts: {}, otherZoneCost: 2.5 }, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
    const table = createNodeTable(4, 1, 1);
    const numbering = new NodeDirectory(4, 1).number(config.clusters);
    for (const { node, cluster } of numbering.added) initNode(table, node, cluster);
    const monitor = new NodeMonitor(config, numbering, table, new Map([['c', createClusterRing(config.clusters.c!.nodes, hash32)]]), hash32, createLogger('silent'), () => 0);
    // Both remote nodes down, one local: 1 of 2 local nodes healthy is not under half.
    for (const node of [1, 2, 3]) monitor.recordCheck(node, false);
    expect(clusterPanic(table, 0)).toBe(false);
    // The other local node down too: local health 0, so other zones may serve, and all of them count.
    monitor.recordCheck(0, false);
    expect(zoneFallback(table, 0)).toBe(true);
    expect(clusterPanic(table, 0)).toBe(true);
  });
});

describe('zone fallback beyond mean health', () => {
  const setup = (locals: number, breakerOpen: (index: number) => boolean = () => false, others = 1) => {
    const ids = [...Array.from({ length: locals }, (_, i) => `a${i}`), ...Array.from({ length: others }, (_, i) => `b${i}`)];
    return zonedMonitor(hash32, ids, true, breakerOpen);
  };

  it('lets other zones serve when the local nodes alone would be in panic, rather than send requests to dead local nodes', () => {
    const { table, monitor } = setup(3);
    // 1 of 3 local nodes healthy: mean health 0.33 is over 0.2, but under the panic threshold.
    for (const node of [1, 2]) monitor.recordCheck(node, false);
    expect(zoneFallback(table, 0)).toBe(true);
    // Over every zone, 2 of 4 usable: no panic, so the dead local nodes take nothing.
    expect(clusterPanic(table, 0)).toBe(false);
  });

  /** Ticks the monitor until the cluster's fallback flag reads `on` (its end waits for a ring to be published). */
  const fallbackSettles = (monitor: NodeMonitor, table: ReturnType<typeof setup>['table'], on: boolean) =>
    expect
      .poll(() => {
        monitor.tick();
        return zoneFallback(table, 0);
      })
      .toBe(on);

  it.each([[[3, 4, 5, 1, 2]], [[1, 2, 3, 4, 5]]])('keeps to the local nodes when the other zone would not end a local panic (failing in order %j)', async (order) => {
    const { table, monitor } = setup(3, () => false, 3);
    // a0 healthy; a1, a2 and the whole other zone down: falling back would panic over all six
    // nodes, sending half the requests across zones to dead ones and fewer to a0.
    for (const node of order) monitor.recordCheck(node, false);
    await fallbackSettles(monitor, table, false);
    expect(clusterPanic(table, 0)).toBe(true);
  });

  it('keeps to the local nodes under the mean-health threshold too when the other zone is down', async () => {
    // 1 of 6 local nodes up (mean 0.17, under 0.2), the other zone down: a panic over all 9 would
    // give a0 a ninth of the requests where the local panic gives it a sixth.
    const { table, monitor } = setup(6, () => false, 3);
    for (const node of [1, 2, 3, 4, 5, 6, 7, 8]) monitor.recordCheck(node, false);
    await fallbackSettles(monitor, table, false);
    expect(clusterPanic(table, 0)).toBe(true);
  });

  it('counts a local node whose breaker is open as down', () => {
    const open = new Set<number>();
    const { table, monitor } = setup(2, (index) => open.has(index));
    expect(zoneFallback(table, 0)).toBe(false);
    open.add(0).add(1);
    monitor.tick();
    expect(zoneFallback(table, 0)).toBe(true);
  });
});

describe('node monitor, a steady cluster keeps its ring', () => {
  /** Deterministic [0, 1) (mulberry32). */
  function random(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('keeps a node answering 5% 5xx (half the limit) on the ring through an hour of 25-request windows', () => {
    const { table, clock, monitor } = setup(false);
    const rnd = random(7);
    for (let s = 0; s < 3600; s++) {
      for (let node = 0; node < 3; node++) for (let r = 0; r < 25; r++) traffic(table, node, 1, node === 0 && rnd() < 0.05 ? NodeOutcome.Failed : NodeOutcome.Answered);
      clock.now += 1000;
      monitor.tick();
    }
    expect(monitor.rebuilds).toBe(0);
  });

  it('takes out a node failing every request at 15 requests a window: windows under minRequests add up', () => {
    const { table, clock, monitor, points } = setup(false);
    for (let s = 0; s < 2; s++) {
      traffic(table, 0, 15, NodeOutcome.Failed);
      clock.now += 1000;
      monitor.tick();
    }
    expect(monitor.views()[0]).toMatchObject({ reason: '5xx-rate', points: 0 });
    expect(points()).toEqual([0, 150, 150]);
  });

  it('keeps the ring through an hour of cache hit rates that only wobble', () => {
    const { table, clock, monitor } = setup(false);
    const rnd = random(11);
    for (let s = 0; s < 3600; s++) {
      for (let node = 0; node < 3; node++) for (let r = 0; r < 25; r++) recordCacheLookup(table, node, rnd() < 0.3);
      clock.now += 1000;
      monitor.tick();
    }
    expect(monitor.rebuilds).toBeLessThanOrEqual(1); // from the unmeasured 1 to ~0.3, once
  });
});
