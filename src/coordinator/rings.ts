import type { GatewayConfig } from '../config/load.js';
import { buildRing, ringSize, type Hash32, type RingMember } from '../routing/ring.js';
import { createSharedRing, publishRing, type SharedRing } from '../shm/ring-buffer.js';

export function ringMembers(nodes: GatewayConfig['clusters'][string]['nodes']): RingMember[] {
  return nodes.map((node, index) => ({ index, id: node.id, weight: node.weight }));
}

/**
 * Creates one shared ring per cluster and publishes its first build. Capacity fits every node at
 * its configured weight: later rebuilds only lower weights or drop nodes, never exceed it.
 */
export function createClusterRings(config: GatewayConfig, hash32: Hash32): Map<string, SharedRing> {
  const rings = new Map<string, SharedRing>();
  for (const [name, cluster] of Object.entries(config.clusters)) {
    const members = ringMembers(cluster.nodes);
    const ring = createSharedRing(Math.max(1, ringSize(members)));
    publishRing(ring, buildRing(members, hash32));
    rings.set(name, ring);
  }
  return rings;
}
