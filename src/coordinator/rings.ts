import type { GatewayConfig } from '../config/load.js';
import { clockwiseNodes } from '../routing/selection.js';
import { buildRing, locate, ringSize, type Hash32, type RingData, type RingMember } from '../routing/ring.js';
import { createSharedRing, publishRing, type SharedRing } from '../shm/ring-buffer.js';

function ringMembers(nodes: GatewayConfig['clusters'][string]['nodes']): RingMember[] {
  return nodes.map((node, index) => ({ index, id: node.id, weight: node.weight }));
}

export interface ClusterRing {
  /** What acceptors read. */
  readonly shared: SharedRing;
  /** The coordinator's copy of the last build published, for views. */
  data: RingData;
}

/**
 * A cluster's shared ring with its first build published. Capacity fits every node at its
 * configured weight: later builds only lower weights or drop nodes, never exceed it; a reload that
 * changes a cluster's nodes gives it a new ring (topology.ts).
 */
export function createClusterRing(nodes: GatewayConfig['clusters'][string]['nodes'], hash32: Hash32): ClusterRing {
  const members = ringMembers(nodes);
  const shared = createSharedRing(Math.max(1, ringSize(members)));
  const data = buildRing(members, hash32);
  publishRing(shared, data);
  return { shared, data };
}

/**
 * Node indices a key with shard factor k may go to: the first k distinct nodes clockwise from its
 * point, as acceptors walk them (a node over its load bound sends the request further on).
 */
export function candidateNodes(ring: RingData, keyHash: number, k: number): number[] {
  const count = ring.hashes.length;
  if (count === 0) return [];
  return clockwiseNodes(ring.owners, locate(ring.hashes, 0, count, ring.index, 0, ring.indexBits, keyHash), count, k);
}

/**
 * For views (/tenants): a tenant's candidate node ids with shard factor k, on each cluster whose
 * routes are keyed by tenant.
 */
export function tenantCandidates(
  config: GatewayConfig,
  rings: ReadonlyMap<string, ClusterRing>,
  hash32: Hash32,
): (tenant: string, k: number) => Record<string, string[]> {
  const clusters = [...new Set(config.routes.filter((route) => route.hashOn === 'tenant').map((route) => route.cluster))];
  return (tenant, k) => {
    const keyHash = hash32(tenant);
    return Object.fromEntries(
      clusters.map((cluster) => [cluster, candidateNodes(rings.get(cluster)!.data, keyHash, k).map((i) => config.clusters[cluster]!.nodes[i]!.id)]),
    );
  };
}
