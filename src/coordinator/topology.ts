import type { GatewayConfig } from '../config/load.js';
import type { Hash32 } from '../routing/ring.js';
import { NodeDirectory, type NodeNumbering } from '../shm/node-numbering.js';
import { initNode, type NodeTable } from '../shm/node-table.js';
import { createClusterRing, type ClusterRing } from './rings.js';

/** Which nodes, slots and rings a config runs on. */
export interface TopologyState {
  /** Counts the configs applied: acceptors say when they run no request of an older one (node slots are freed by it). */
  readonly epoch: number;
  readonly config: GatewayConfig;
  readonly numbering: NodeNumbering;
  readonly rings: ReadonlyMap<string, ClusterRing>;
  /** The rings' buffers by cluster, as acceptors receive them. */
  readonly ringBuffers: Readonly<Record<string, SharedArrayBuffer>>;
}

/**
 * The coordinator's live topology: node slots in the shared table (stable across reloads), and one
 * shared ring per cluster. A cluster whose nodes (ids, order, weights) are unchanged by a reload
 * keeps its ring; any other gets a new ring buffer, because acceptors still on the old config read
 * ring owners as positions in the old member list.
 */
export class Topology {
  readonly #directory: NodeDirectory;
  readonly #table: NodeTable;
  readonly #hash32: Hash32;
  #state: TopologyState;

  constructor(config: GatewayConfig, table: NodeTable, hash32: Hash32, capacity: number) {
    this.#directory = new NodeDirectory(capacity, capacity);
    this.#table = table;
    this.#hash32 = hash32;
    this.#state = this.#next(config, 0, new Map());
  }

  get state(): TopologyState {
    return this.#state;
  }

  /** Moves to `config`; throws a RangeError, changing nothing, when the node table has no room for it. */
  apply(config: GatewayConfig): TopologyState {
    this.#state = this.#next(config, this.#state.epoch + 1, this.#state.rings, this.#state.config);
    return this.#state;
  }

  /** No thread runs a request of a config older than `settled`: slots of nodes gone since are free; how many. */
  release(settled: number): number {
    return this.#directory.release(settled).length;
  }

  #next(config: GatewayConfig, epoch: number, rings: ReadonlyMap<string, ClusterRing>, previous?: GatewayConfig): TopologyState {
    const numbering = this.#directory.number(config.clusters, epoch);
    for (const { node, cluster } of numbering.added) initNode(this.#table, node, cluster);
    const nextRings = new Map<string, ClusterRing>();
    for (const [name, cluster] of Object.entries(config.clusters)) {
      // Own keys only: a cluster named as what objects inherit (constructor) may be new.
      const before = previous !== undefined && Object.hasOwn(previous.clusters, name) ? previous.clusters[name] : undefined;
      const same = before !== undefined && sameMembers(before.nodes, cluster.nodes);
      nextRings.set(name, same ? rings.get(name)! : createClusterRing(cluster.nodes, this.#hash32));
    }
    return {
      epoch,
      config,
      numbering: { clusters: numbering.clusters, members: numbering.members },
      rings: nextRings,
      ringBuffers: Object.fromEntries([...nextRings].map(([name, ring]) => [name, ring.shared.buffer])),
    };
  }
}

type Nodes = GatewayConfig['clusters'][string]['nodes'];

function sameMembers(a: Nodes, b: Nodes): boolean {
  return a.length === b.length && a.every((node, i) => node.id === b[i]!.id && node.weight === b[i]!.weight && node.url === b[i]!.url);
}
