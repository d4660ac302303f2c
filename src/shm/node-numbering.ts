/**
 * Which slot of the shared node table each cluster and node has. Stable for the life of the
 * process: a node (its cluster's name and its id) keeps its slot across config reloads and a new
 * one takes the next free slot, so requests still running under an old config, the coordinator's
 * per-node state and the counters all keep meaning the same node. The coordinator assigns; the
 * acceptors receive the result as plain data.
 */
export interface NodeNumbering {
  /** Slot of each cluster. */
  readonly clusters: Readonly<Record<string, number>>;
  /** Slots of each cluster's nodes, in the config's order (the order ring owners count in). */
  readonly members: Readonly<Record<string, readonly number[]>>;
}

type Clusters = Readonly<Record<string, { readonly nodes: readonly { readonly id: string }[] }>>;

export class NodeDirectory {
  readonly #clusters = new Map<string, number>();
  readonly #nodes = new Map<string, number>();
  readonly #nodeCapacity: number;
  readonly #clusterCapacity: number;

  constructor(nodeCapacity: number, clusterCapacity: number) {
    this.#nodeCapacity = nodeCapacity;
    this.#clusterCapacity = clusterCapacity;
  }

  /**
   * Slots for every cluster and node of `clusters`, keeping those given before. `added` lists the
   * slots given out now, for the caller to initialize. Throws a RangeError, assigning nothing,
   * when the table has no room left.
   */
  number(clusters: Clusters): NodeNumbering & { readonly added: readonly { readonly node: number; readonly cluster: number }[] } {
    const newClusters = Object.keys(clusters).filter((name) => !this.#clusters.has(name)).length;
    const newNodes = Object.entries(clusters).reduce((sum, [name, cluster]) => sum + cluster.nodes.filter((node) => !this.#nodes.has(key(name, node.id))).length, 0);
    if (this.#nodes.size + newNodes > this.#nodeCapacity) {
      throw new RangeError(`${this.#nodes.size + newNodes} nodes ever configured exceed GATEWAY_MAX_NODES (${this.#nodeCapacity})`);
    }
    if (this.#clusters.size + newClusters > this.#clusterCapacity) {
      throw new RangeError(`${this.#clusters.size + newClusters} clusters ever configured exceed the ${this.#clusterCapacity} the node table holds`);
    }
    const added: { node: number; cluster: number }[] = [];
    const clusterSlots: Record<string, number> = {};
    const members: Record<string, number[]> = {};
    for (const [name, cluster] of Object.entries(clusters)) {
      const clusterSlot = this.#slot(this.#clusters, name);
      clusterSlots[name] = clusterSlot;
      members[name] = cluster.nodes.map((node) => {
        const nodeKey = key(name, node.id);
        const known = this.#nodes.get(nodeKey);
        if (known !== undefined) return known;
        const slot = this.#slot(this.#nodes, nodeKey);
        added.push({ node: slot, cluster: clusterSlot });
        return slot;
      });
    }
    return { clusters: clusterSlots, members, added };
  }

  #slot(slots: Map<string, number>, name: string): number {
    let slot = slots.get(name);
    if (slot === undefined) {
      slot = slots.size;
      slots.set(name, slot);
    }
    return slot;
  }
}

function key(cluster: string, node: string): string {
  return `${cluster}\n${node}`;
}
