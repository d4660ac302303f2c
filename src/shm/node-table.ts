/**
 * Per-node counters shared by every thread (DESIGN's node table; in-flight requests so far).
 * Node n is the n-th node of the config's clusters, in config order (nodeBases), so coordinator
 * and acceptors agree on indices without a message.
 *
 * Layout, Int32 words:
 *   NODE_COUNT           nodes                                      coordinator, once at creation
 *   [NODES_OFFSET + n]   IN_FLIGHT: requests accepted for node n     acceptor Atomics.add(+1) when it
 *                        and not finished yet                       picks the node, Atomics.add(-1) when
 *                                                                   the exchange finishes
 */
export const NODE_COUNT = 0;
export const NODES_OFFSET = 1;

export interface NodeTable {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly count: number;
}

/** Index of each cluster's first node, and the total, in config order. */
export function nodeBases(clusters: Readonly<Record<string, { readonly nodes: readonly unknown[] }>>): { bases: Map<string, number>; total: number } {
  const bases = new Map<string, number>();
  let total = 0;
  for (const [name, cluster] of Object.entries(clusters)) {
    bases.set(name, total);
    total += cluster.nodes.length;
  }
  return { bases, total };
}

/** Coordinator: a table for `count` nodes. */
export function createNodeTable(count: number): NodeTable {
  const buffer = new SharedArrayBuffer((NODES_OFFSET + count) * Int32Array.BYTES_PER_ELEMENT);
  Atomics.store(new Int32Array(buffer), NODE_COUNT, count);
  return attachNodeTable(buffer);
}

/** Views over a table received from another thread. */
export function attachNodeTable(buffer: SharedArrayBuffer): NodeTable {
  const words = new Int32Array(buffer);
  return { buffer, words, count: Atomics.load(words, NODE_COUNT) };
}

/** Acceptor: +1 when a request is given to `node`, -1 when its exchange finishes. */
export function addInFlight(table: NodeTable, node: number, delta: 1 | -1): void {
  Atomics.add(table.words, NODES_OFFSET + node, delta);
}

export function inFlight(table: NodeTable, node: number): number {
  return Atomics.load(table.words, NODES_OFFSET + node);
}
