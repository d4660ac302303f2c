import { ClusterSelector } from '../../src/acceptor/cluster-selector.js';
import { AvoidedNodes } from '../../src/routing/avoided-nodes.js';
import { BoundedLoad, loadBound } from '../../src/routing/bounded-load.js';
import { buildRing, lookup, type Hash32, type RingMember } from '../../src/routing/ring.js';
import { ClusterLoads, createNodeTable, initNode, startNodeRequest } from '../../src/shm/node-table.js';
import { createSharedRing, lookupShared, publishRing, readRing } from '../../src/shm/ring-buffer.js';
import type { MicroSuite, MicroTask } from './suite.js';

/**
 * The ring lookup every request makes: the shared seqlock ring (what acceptors read) against the
 * same lookup on a thread-local plain ring (what a per-thread copy pushed by postMessage would be),
 * and adaptive routing's walk (shard factor k, load bound over shared in-flight counts).
 */
export function ringLookupSuite(hash32: Hash32, batch: number): MicroSuite {
  const tasks: MicroTask[] = [];
  for (const nodes of [10, 100]) {
    const members: RingMember[] = Array.from({ length: nodes }, (_, index) => ({ index, id: `node-${index}`, weight: 1 }));
    const data = buildRing(members, hash32);
    const shared = createSharedRing(data.hashes.length);
    publishRing(shared, data);
    const keys = Uint32Array.from({ length: batch }, (_, i) => hash32(`tenant-${i}`));
    // Loads as under wrk -c64: every node busy, none over the bound, so k alone decides.
    const table = createNodeTable(nodes, 1, 1);
    for (let node = 0; node < nodes; node++) initNode(table, node, 0);
    for (let node = 0; node < nodes; node++) {
      for (let i = 0; i < Math.ceil(64 / nodes); i++) startNodeRequest(table, 0, node, 0);
    }
    const bounded = new BoundedLoad();
    bounded.bound = loadBound(64 + nodes, nodes, 1.25);
    const avoided = new AvoidedNodes(bounded, nodes);
    const loads = new ClusterLoads(table, Array.from({ length: nodes }, (_, i) => i));
    const selector = new ClusterSelector(nodes, loads, { avoided, bounded, saturation: null, circuits: null });
    let sink = 0;
    for (const k of [1, 3]) {
      tasks.push({
        name: `readRing + selection walk, ${nodes} nodes, k = ${k}, bounded loads`,
        run: () => {
          selector.k = k;
          for (let i = 0; i < batch; i++) sink += readRing(shared, keys[i]!, selector);
        },
      });
    }
    tasks.push(
      {
        name: `lookupShared, ${nodes} nodes (${data.hashes.length} points, SharedArrayBuffer + seqlock)`,
        run: () => {
          for (let i = 0; i < batch; i++) sink += lookupShared(shared, keys[i]!);
        },
      },
      {
        name: `lookup, ${nodes} nodes (plain typed arrays, no seqlock)`,
        run: () => {
          for (let i = 0; i < batch; i++) sink += lookup(data, keys[i]!);
        },
      },
    );
    if (sink === -1) throw new Error('unreachable: keeps the loop from being optimised away');
  }
  return { title: 'Ring lookup (per lookup; 8-probe multi-probe, bucket index + binary search in the bucket)', tasks };
}
