import { beforeAll, describe, expect, it } from 'vitest';
import { fileSchema } from '../../src/config/schema.js';
import type { GatewayConfig } from '../../src/config/load.js';
// From dist: a ring this large is built on the pool's worker, the built ring-build-worker.js.
import { NodeMonitor } from '../../dist/coordinator/node-monitor.js';
import { createClusterRing } from '../../src/coordinator/rings.js';
import { Reloader } from '../../src/coordinator/reloader.js';
import type { DemoBackends } from '../../src/coordinator/demo-backends.js';
import type { NodeMonitor as SrcNodeMonitor } from '../../src/coordinator/node-monitor.js';
import { Topology } from '../../src/coordinator/topology.js';
import { loadHash32 } from '../../src/hash.js';
import { createLogger } from '../../src/log.js';
import type { Hash32 } from '../../src/routing/ring.js';
import { NodeDirectory } from '../../src/shm/node-numbering.js';
import { createNodeTable, initNode } from '../../src/shm/node-table.js';
import { activePointCount } from '../../src/shm/ring-buffer.js';
import type { CoordinatorMessage } from '../../src/thread-protocol.js';

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
  it('are settled with the weights the monitor wants, also when built on a worker, by the time its promise resolves', async () => {
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
      const settled = monitor.reconfigure(after, renumbered, new Map([['c', ring]]));
      expect(settled).not.toBeNull();
      expect(activePointCount(ring.shared)).toBe(102 * 150);
      await settled;
      const wanted = monitor.views().reduce((sum, view) => sum + view.points, 0);
      expect(wanted).toBeLessThan(102 * 150);
      expect(activePointCount(ring.shared)).toBe(wanted);
    } finally {
      await monitor.stop();
    }
  });

  it('reach the acceptors only once built, in the order the reloads came, whatever each build takes', async () => {
    const table = createNodeTable(8, 2, 1);
    const config = configWith(2);
    const topology = new Topology(config, table, hash32, 8);
    const builds: (() => void)[] = [];
    // The first two reloads wait for builds; the third's rings are installed at once (null).
    const monitor = { reconfigure: () => (builds.length < 2 ? new Promise<void>((resolve) => builds.push(resolve)) : null) } as unknown as SrcNodeMonitor;
    const demo = { appendTo: (next: GatewayConfig) => next, unstartedIn: () => [] } as unknown as DemoBackends;
    const told: number[] = [];
    const loads = [configWith(3), configWith(4), configWith(5), configWith(6)];
    const reloader = new Reloader({
      load: () => loads.shift()!,
      topology,
      nodeMonitor: monitor,
      demo,
      broadcast: (message: CoordinatorMessage) => message.type === 'reload' && told.push(message.config.clusters.c!.nodes.length),
      onApplied: () => {},
      log: createLogger('silent'),
    });
    expect(reloader.reload()).toEqual({ ok: true, needRestart: [] });
    expect(reloader.reload()).toEqual({ ok: true, needRestart: [] });
    // The second reload's rings are ready first: it still waits for the first to be told.
    builds[1]!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(told).toEqual([]);
    // Nothing to wait for, but a reload before it waits still: told after that one.
    expect(reloader.reload()).toEqual({ ok: true, needRestart: [] });
    expect(told).toEqual([]);
    builds[0]!();
    await expect.poll(() => told).toEqual([3, 4, 5]);
    // Nothing waits any more: told before reload() returns, so before any answer to a push.
    expect(reloader.reload()).toEqual({ ok: true, needRestart: [] });
    expect(told).toEqual([3, 4, 5, 6]);
  });
});
