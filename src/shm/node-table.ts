/**
 * Per-node counters shared by every thread (DESIGN's node table: in-flight and requests so far),
 * each cluster's in-flight total, which bounded-load routing compares a node against, and one lane
 * per acceptor thread holding that thread's share of each node's in-flight count, so that the
 * coordinator can take back what a thread that died was holding. Node n is the n-th node of the
 * config's clusters, in config order, and cluster c the c-th cluster (nodeBases), so coordinator
 * and acceptors agree on indices without a message.
 *
 * Layout, Int32 words:
 *   NODE_COUNT, CLUSTER_COUNT, LANE_COUNT            coordinator, once at creation
 *   per node n, NODE_WORDS at NODES_OFFSET + n × NODE_WORDS:
 *     IN_FLIGHT   requests given to the node that     acceptor Atomics.add(+1) when it picks the node,
 *                 it has not answered yet             Atomics.sub(1) once the node is done with the
 *                                                     request (before the client sees the answer's end);
 *                                                     coordinator Atomics.sub(a dead thread's lane)
 *     REQUESTS    requests given to the node, ever    acceptor Atomics.add(+1) when it picks the node
 *                 (wraps past 2^31; read unsigned)
 *     CLUSTER     the node's cluster index            coordinator, once at creation
 *   per cluster c, at clustersOffset + c:
 *     the sum of its nodes' IN_FLIGHT                  written alongside each IN_FLIGHT change, by the
 *                                                     same party with the same operation
 *   per lane t (an acceptor thread's index), nodeCount words at lanesOffset + t × nodeCount:
 *     thread t's share of each node's IN_FLIGHT        acceptor t Atomics.add / Atomics.sub alongside
 *                                                     IN_FLIGHT; coordinator Atomics.exchange(0) once
 *                                                     thread t has exited, before it restarts
 * The global words are written on every request by every thread; two threads' counters for one
 * node sit on one cache line, which costs less than padding thousands of nodes apart.
 */
import type { NodeLoads } from '../routing/selection.js';

export const NODE_COUNT = 0;
export const CLUSTER_COUNT = 1;
export const LANE_COUNT = 2;
export const NODES_OFFSET = 4;

export const IN_FLIGHT = 0;
export const REQUESTS = 1;
export const CLUSTER = 2;
export const NODE_WORDS = 3;

export interface NodeTable {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly count: number;
  readonly clusterCount: number;
  readonly laneCount: number;
  /** Word offset of cluster 0's in-flight total. */
  readonly clustersOffset: number;
  /** Word offset of lane 0. */
  readonly lanesOffset: number;
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

function lanesOffsetFor(nodeCount: number, clusterCount: number): number {
  return clustersOffsetFor(nodeCount) + clusterCount;
}

/** Word offset of one of node n's fields (IN_FLIGHT, REQUESTS, CLUSTER). */
function nodeWord(node: number, field: number): number {
  return NODES_OFFSET + node * NODE_WORDS + field;
}

/** Coordinator: a table for clusters of `clusterSizes` nodes each (config order), and `lanes` acceptor threads. */
export function createNodeTable(clusterSizes: readonly number[], lanes: number): NodeTable {
  const nodeCount = clusterSizes.reduce((a, b) => a + b, 0);
  const words = lanesOffsetFor(nodeCount, clusterSizes.length) + lanes * nodeCount;
  const buffer = new SharedArrayBuffer(words * Int32Array.BYTES_PER_ELEMENT);
  const view = new Int32Array(buffer);
  Atomics.store(view, NODE_COUNT, nodeCount);
  Atomics.store(view, CLUSTER_COUNT, clusterSizes.length);
  Atomics.store(view, LANE_COUNT, lanes);
  let node = 0;
  clusterSizes.forEach((size, cluster) => {
    for (let i = 0; i < size; i++) Atomics.store(view, nodeWord(node++, CLUSTER), cluster);
  });
  return attachNodeTable(buffer);
}

/** Views over a table received from another thread. */
export function attachNodeTable(buffer: SharedArrayBuffer): NodeTable {
  const words = new Int32Array(buffer);
  const count = Atomics.load(words, NODE_COUNT);
  const clusterCount = Atomics.load(words, CLUSTER_COUNT);
  return {
    buffer,
    words,
    count,
    clusterCount,
    laneCount: Atomics.load(words, LANE_COUNT),
    clustersOffset: clustersOffsetFor(count),
    lanesOffset: lanesOffsetFor(count, clusterCount),
  };
}

/** Acceptor on lane `lane`: a request given to `node` of `cluster`. */
export function startNodeRequest(table: NodeTable, lane: number, node: number, cluster: number): void {
  const words = table.words;
  Atomics.add(words, nodeWord(node, IN_FLIGHT), 1);
  Atomics.add(words, nodeWord(node, REQUESTS), 1);
  Atomics.add(words, table.clustersOffset + cluster, 1);
  Atomics.add(words, table.lanesOffset + lane * table.count + node, 1);
}

/** Acceptor on lane `lane`: the node is done with a request given to it (answered, failed, or abandoned). */
export function finishNodeRequest(table: NodeTable, lane: number, node: number, cluster: number): void {
  const words = table.words;
  Atomics.sub(words, nodeWord(node, IN_FLIGHT), 1);
  Atomics.sub(words, table.clustersOffset + cluster, 1);
  Atomics.sub(words, table.lanesOffset + lane * table.count + node, 1);
}

/**
 * Coordinator, once the thread of `lane` has exited (and before it is restarted): takes its
 * unfinished requests out of every node's and cluster's in-flight count. Returns how many.
 */
export function releaseLane(table: NodeTable, lane: number): number {
  const words = table.words;
  let released = 0;
  for (let node = 0; node < table.count; node++) {
    const held = Atomics.exchange(words, table.lanesOffset + lane * table.count + node, 0);
    if (held === 0) continue;
    Atomics.sub(words, nodeWord(node, IN_FLIGHT), held);
    Atomics.sub(words, table.clustersOffset + Atomics.load(words, nodeWord(node, CLUSTER)), held);
    released += held;
  }
  return released;
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

/** The in-flight counts of one cluster's nodes, read in place by the selection walk. */
export class ClusterLoads implements NodeLoads {
  readonly #words: Int32Array;
  readonly #first: number;

  /** `base`: the node-table index of the cluster's first node. */
  constructor(table: NodeTable, base: number) {
    this.#words = table.words;
    this.#first = nodeWord(base, IN_FLIGHT);
  }

  load(node: number): number {
    return Atomics.load(this.#words, this.#first + node * NODE_WORDS);
  }
}
