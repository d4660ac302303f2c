import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/load.js';
import { fileSchema } from '../../src/config/schema.js';
import { NodeMonitor } from '../../src/coordinator/node-monitor.js';
import { createClusterRing } from '../../src/coordinator/rings.js';
import { loadHash32 } from '../../src/hash.js';
import { createLogger } from '../../src/log.js';
import type { Hash32 } from '../../src/routing/ring.js';
import { NodeDirectory } from '../../src/shm/node-numbering.js';
import { createNodeTable, initNode, zoneFallback } from '../../src/shm/node-table.js';
import { activePointCount } from '../../src/shm/ring-buffer.js';

let hash32: Hash32;
beforeAll(async () => {
  hash32 = await loadHash32();
});

/** One local node (a0, slot 0) and two of another zone; checks judge a node at the first result. */
function setup() {
  const file = fileSchema.parse({
    routes: [{ prefix: '/', cluster: 'c' }],
    clusters: {
      c: {
        nodes: ['a0', 'b0', 'b1'].map((id, i) => ({ id, url: `http://127.0.0.1:${9000 + i}`, az: `az-${id[0]}` })),
        healthCheck: { path: '/health', unhealthyThreshold: 1, healthyThreshold: 1 },
      },
    },
  });
  const config = { source: 'test', settings: { zone: 'az-a', zoneAffinity: 'hard', zoneFallbackHealth: 0.2, zoneCosts: {}, otherZoneCost: 2.5 }, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
  const table = createNodeTable(3, 1, 1);
  const numbering = new NodeDirectory(3, 1).number(config.clusters);
  for (const { node, cluster } of numbering.added) initNode(table, node, cluster);
  const ring = createClusterRing(config.clusters.c!.nodes, hash32);
  const monitor = new NodeMonitor(config, numbering, table, new Map([['c', ring]]), hash32, createLogger('silent'), () => 0);
  return { table, ring, monitor };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('zone fallback and the ring', () => {
  it('keeps other zones serving until the ring has the recovered local node back', async () => {
    const { table, ring, monitor } = setup();
    const pointsWithLocal = activePointCount(ring.shared);
    monitor.recordCheck(0, false);
    await turn();
    expect(zoneFallback(table, 0)).toBe(true);
    const pointsWithoutLocal = activePointCount(ring.shared);
    expect(pointsWithoutLocal).toBeLessThan(pointsWithLocal);

    // A thread reading as an acceptor does, while the local node goes down and comes back.
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const observer = new Worker(new URL('../fixtures/fallback-observer.mjs', import.meta.url), {
      workerData: { nodeBuffer: table.buffer, ringBuffer: ring.shared.buffer, cluster: 0, pointsWithoutLocal, stop },
    });
    const done = new Promise<{ reads: number; stranded: number }>((resolve, reject) => {
      observer.on('message', (m: { type: string; reads: number; stranded: number }) => m.type === 'done' && resolve(m));
      observer.once('error', reject);
    });
    await new Promise<void>((resolve) => observer.once('message', () => resolve()));
    for (let flip = 0; flip < 200; flip++) {
      monitor.recordCheck(0, true);
      await turn();
      expect(zoneFallback(table, 0)).toBe(false);
      monitor.recordCheck(0, false);
      await turn();
    }
    Atomics.store(stop, 0, 1);
    const { reads, stranded } = await done;
    await observer.terminate();
    expect(reads).toBeGreaterThan(0);
    // Never a moment where other zones may not serve and the ring still lacks the local node:
    // an acceptor would find no node to take the request (ERR_RING_EMPTY).
    expect(stranded).toBe(0);
  });
});
