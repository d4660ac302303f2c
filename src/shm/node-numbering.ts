/**
 * Which slot of the shared node table each cluster and node has. A node (its cluster's name and its
 * id) keeps its slot across config reloads, and a new one takes a free slot, so requests still
 * running under an old config, the coordinator's per-node state and the counters all keep meaning
 * the same node. A node no config has any more gives its slot back only once no request of a
 * config that had it can still be running (release): then nothing refers to the slot, and a node
 * added later may take it. Cluster slots are kept for good. The coordinator assigns; the acceptors
 * receive the result as plain data.
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
  /** Nodes the configs have left, by key: their slot, and the first config epoch without them. */
  readonly #leaving = new Map<string, { readonly slot: number; readonly since: number }>();
  /** Slots given back, taken before new ones. */
  readonly #free: number[] = [];
  #nextNode = 0;
  readonly #nodeCapacity: number;
  readonly #clusterCapacity: number;

  constructor(nodeCapacity: number, clusterCapacity: number) {
    this.#nodeCapacity = nodeCapacity;
    this.#clusterCapacity = clusterCapacity;
  }

  /**
   * Slots for every cluster and node of `clusters`, the config of `epoch`, keeping those given
   * before. `added` lists the slots given out now (new or reused), for the caller to initialize.
   * Throws a RangeError, assigning nothing, when the table has no room left.
   */
  number(clusters: Clusters, epoch = 0): NodeNumbering & { readonly added: readonly { readonly node: number; readonly cluster: number }[] } {
    const newClusters = Object.keys(clusters).filter((name) => !this.#clusters.has(name)).length;
    const newNodes = Object.entries(clusters).reduce((sum, [name, cluster]) => sum + cluster.nodes.filter((node) => !this.#nodes.has(key(name, node.id))).length, 0);
    if (this.#nodes.size + newNodes > this.#nodeCapacity) {
      const leaving = this.#leaving.size === 0 ? '' : `, ${this.#leaving.size} of them removed but maybe still in use by requests of an older config`;
      throw new RangeError(`${this.#nodes.size + newNodes} nodes${leaving} exceed GATEWAY_MAX_NODES (${this.#nodeCapacity})`);
    }
    if (this.#clusters.size + newClusters > this.#clusterCapacity) {
      throw new RangeError(`${this.#clusters.size + newClusters} clusters ever configured exceed the ${this.#clusterCapacity} the node table holds`);
    }
    const added: { node: number; cluster: number }[] = [];
    const clusterSlots: Record<string, number> = {};
    const members: Record<string, number[]> = {};
    const present = new Set<string>();
    for (const [name, cluster] of Object.entries(clusters)) {
      let clusterSlot = this.#clusters.get(name);
      if (clusterSlot === undefined) this.#clusters.set(name, (clusterSlot = this.#clusters.size));
      clusterSlots[name] = clusterSlot;
      members[name] = cluster.nodes.map((node) => {
        const nodeKey = key(name, node.id);
        present.add(nodeKey);
        // Back before its slot was given back: the node it was, counters and all.
        this.#leaving.delete(nodeKey);
        const known = this.#nodes.get(nodeKey);
        if (known !== undefined) return known;
        const slot = this.#free.pop() ?? this.#nextNode++;
        this.#nodes.set(nodeKey, slot);
        added.push({ node: slot, cluster: clusterSlot });
        return slot;
      });
    }
    for (const [nodeKey, slot] of this.#nodes) if (!present.has(nodeKey) && !this.#leaving.has(nodeKey)) this.#leaving.set(nodeKey, { slot, since: epoch });
    return { clusters: clusterSlots, members, added };
  }

  /**
   * Every thread runs no request of a config older than epoch `settled`: the slots of nodes no
   * config has had since then are free again. Returns them.
   */
  release(settled: number): number[] {
    const freed: number[] = [];
    for (const [nodeKey, { slot, since }] of this.#leaving) {
      if (since > settled) continue;
      this.#leaving.delete(nodeKey);
      this.#nodes.delete(nodeKey);
      this.#free.push(slot);
      freed.push(slot);
    }
    return freed;
  }
}

function key(cluster: string, node: string): string {
  return `${cluster}\n${node}`;
}
