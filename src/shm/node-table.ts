/**
 * Per-node counters shared by every thread (DESIGN's node table: in-flight and requests so far),
 * plus each cluster's in-flight total, which bounded-load routing compares a node against.
 * Node n is the n-th node of the config's clusters, in config order, and cluster c the c-th
 * cluster (nodeBases), so coordinator and acceptors agree on indices without a message.
 *
 * Layout, Int32 words:
 *   NODE_COUNT, CLUSTER_COUNT                        coordinator, once at creation
 *   per node n, NODE_WORDS at NODES_OFFSET + n × NODE_WORDS:
 *     IN_FLIGHT   requests given to the node that     acceptor Atomics.add(+1) when it picks the node,
 *                 it has not answered yet             Atomics.sub(1) once the node is done with the
 *                                                     request (before the client sees the answer's end)
 *     REQUESTS    requests given to the node, ever    acceptor Atomics.add(+1) when it picks the node
 *                 (wraps past 2^31; read unsigned)
 *   per cluster c, at clustersOffset + c:
 *     the sum of its nodes' IN_FLIGHT                  acceptor, Atomics.add / Atomics.sub alongside
 *                                                     each IN_FLIGHT change
 * The words are written on every request by every thread; two threads' counters for one node sit
 * on one cache line, which costs less than padding thousands of nodes apart.
 */
export const NODE_COUNT = 0;
export const CLUSTER_COUNT = 1;
export const NODES_OFFSET = 2;

export const IN_FLIGHT = 0;
export const REQUESTS = 1;
export const NODE_WORDS = 2;

export interface NodeTable {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly count: number;
  readonly clusterCount: number;
  /** Word offset of cluster 0's CLUSTER_IN_FLIGHT. */
  readonly clustersOffset: number;
}

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

function clustersOffsetFor(nodeCount: number): number {
  return NODES_OFFSET + nodeCount * NODE_WORDS;
}

/** Coordinator: a table for `nodeCount` nodes in `clusterCount` clusters. */
export function createNodeTable(nodeCount: number, clusterCount: number): NodeTable {
  const buffer = new SharedArrayBuffer((clustersOffsetFor(nodeCount) + clusterCount) * Int32Array.BYTES_PER_ELEMENT);
  const words = new Int32Array(buffer);
  Atomics.store(words, NODE_COUNT, nodeCount);
  Atomics.store(words, CLUSTER_COUNT, clusterCount);
  return attachNodeTable(buffer);
}

/** Views over a table received from another thread. */
export function attachNodeTable(buffer: SharedArrayBuffer): NodeTable {
  const words = new Int32Array(buffer);
  const count = Atomics.load(words, NODE_COUNT);
  return { buffer, words, count, clusterCount: Atomics.load(words, CLUSTER_COUNT), clustersOffset: clustersOffsetFor(count) };
}

/** Word offset of one of node n's fields (IN_FLIGHT, REQUESTS). */
function nodeWord(node: number, field: number): number {
  return NODES_OFFSET + node * NODE_WORDS + field;
}

/** Word offset of node n's IN_FLIGHT; a node's load for bounded-load routing. */
export function inFlightWord(node: number): number {
  return nodeWord(node, IN_FLIGHT);
}

/** Acceptor: a request given to `node` of `cluster`. */
export function startNodeRequest(table: NodeTable, node: number, cluster: number): void {
  const words = table.words;
  Atomics.add(words, nodeWord(node, IN_FLIGHT), 1);
  Atomics.add(words, nodeWord(node, REQUESTS), 1);
  Atomics.add(words, table.clustersOffset + cluster, 1);
}

/** Acceptor: the node is done with a request given to it (answered, failed, or abandoned). */
export function finishNodeRequest(table: NodeTable, node: number, cluster: number): void {
  Atomics.sub(table.words, nodeWord(node, IN_FLIGHT), 1);
  Atomics.sub(table.words, table.clustersOffset + cluster, 1);
}

export function inFlight(table: NodeTable, node: number): number {
  return Atomics.load(table.words, nodeWord(node, IN_FLIGHT));
}

export function nodeRequests(table: NodeTable, node: number): number {
  return Atomics.load(table.words, nodeWord(node, REQUESTS)) >>> 0;
}

export function clusterInFlight(table: NodeTable, cluster: number): number {
  return Atomics.load(table.words, table.clustersOffset + cluster);
}
