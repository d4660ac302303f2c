/**
 * Node and cluster indices, in config order: node n is the n-th node of the config's clusters and
 * cluster c the c-th cluster, so the coordinator and the acceptors agree on the shared tables'
 * indices without a message.
 */
export interface NodeNumbering {
  /** Index of each cluster's first node. */
  readonly bases: Map<string, number>;
  /** Index of each cluster. */
  readonly clusters: Map<string, number>;
  /** Nodes in all clusters. */
  readonly total: number;
}

/** Node and cluster indices, in config order. */
export function nodeBases(clusters: Readonly<Record<string, { readonly nodes: readonly unknown[] }>>): NodeNumbering {
  const bases = new Map<string, number>();
  const indices = new Map<string, number>();
  let total = 0;
  for (const [name, cluster] of Object.entries(clusters)) {
    indices.set(name, indices.size);
    bases.set(name, total);
    total += cluster.nodes.length;
  }
  return { bases, clusters: indices, total };
}
