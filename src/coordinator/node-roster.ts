import type { GatewayConfig } from '../config/load.js';
import { zoneAffinity } from '../config/zones.js';
import { NodeHealth, PASSIVE_DEFAULTS } from '../resilience/node-health.js';
import type { NodeNumbering } from '../shm/node-numbering.js';
import { readNodeCounters, resetConnectStreak, setClusterPanic, setNodeLocal, setZoneFallback, type NodeTable } from '../shm/node-table.js';
import type { ProbeTarget } from './health-prober.js';
import { createNode, type Cluster, type Node } from './node-state.js';
import { pointsOnRing } from './ring-republisher.js';
import type { ClusterRing } from './rings.js';

/** The node monitor's view of one config: its clusters and nodes, merged with what it knew of them. */
export interface NodeRoster {
  readonly clusters: readonly Cluster[];
  /** Nodes by node-table index (holes where a slot is unused). */
  readonly byIndex: readonly (Node | undefined)[];
  /** Nodes by id, of every cluster: a push names tens of thousands of nodes by id. */
  readonly byId: ReadonlyMap<string, readonly Node[]>;
  /** What the health prober checks: nodes of clusters with active checks. */
  readonly probeTargets: readonly ProbeTarget[];
  /** Nodes of clusters with circuit breakers: their failed answers are the breaker's to judge. */
  readonly judgedByBreaker: ReadonlySet<number>;
}

export const EMPTY_ROSTER: NodeRoster = { clusters: [], byIndex: [], byId: new Map(), probeTargets: [], judgedByBreaker: new Set() };

/**
 * The roster of `config`. Nodes that stay keep everything known of them (health, counters, slow
 * start, published points while their cluster's ring is the same), but a node whose url changed is
 * taken for a new one, and one whose zone changed loses its pushed zone cost; a node new to it
 * starts from its slot's counters, ramping from `addedAt` (null at start: nodes there from the start do not ramp).
 * Writes what a config alone decides to the node table: each node's zone, and a clean panic and
 * zone-fallback flag for a cluster new to it (its slot may be one a removed cluster left).
 */
export function buildRoster(
  config: GatewayConfig,
  numbering: NodeNumbering,
  table: NodeTable,
  rings: ReadonlyMap<string, ClusterRing>,
  before: NodeRoster,
  addedAt: number | null,
): NodeRoster {
  const known = new Map(before.byIndex.flatMap((node) => (node === undefined ? [] : [[node.index, node] as const])));
  const clustersBefore = new Map(before.clusters.map((cluster) => [cluster.name, cluster]));
  const local = zoneAffinity(config.settings);
  const clusters: Cluster[] = [];
  const byIndex: Node[] = [];
  const byId = new Map<string, Node[]>();
  const probeTargets: ProbeTarget[] = [];
  const judgedByBreaker = new Set<number>();
  for (const [name, cluster] of Object.entries(config.clusters)) {
    const active = cluster.healthCheck ?? null;
    const position = clusters.length;
    const previous = clustersBefore.get(name);
    const nodes = cluster.nodes.map((nodeConfig, i): Node => {
      const slot = numbering.members[name]![i]!;
      let node = known.get(slot);
      // Another backend under the same id: what the old one did (its failures, its pushed health) says nothing of it.
      if (node !== undefined && node.config.url !== nodeConfig.url) node = undefined;
      if (node === undefined) {
        node = createNode(slot, position, nodeConfig, active);
        if (addedAt !== null) node.usableSince = addedAt;
        // A slot that comes back (a node removed, then added again) keeps its counters: start from them.
        readNodeCounters(table, slot, node.last);
        resetConnectStreak(table, slot);
      } else {
        node.cluster = position;
        // A pushed cost was its old zone's.
        if (node.config.az !== nodeConfig.az) node.azCost = undefined;
        node.config = nodeConfig;
        if (JSON.stringify(previous?.healthCheck ?? null) !== JSON.stringify(active)) {
          node.health = new NodeHealth(active, PASSIVE_DEFAULTS);
          node.activeChecks = active !== null;
        }
      }
      byIndex[slot] = node;
      const named = byId.get(nodeConfig.id);
      if (named === undefined) byId.set(nodeConfig.id, [node]);
      else named.push(node);
      if (cluster.breaker.enabled) judgedByBreaker.add(slot);
      if (local) setNodeLocal(table, slot, nodeConfig.az === config.settings.zone);
      if (active !== null) probeTargets.push({ node: slot, url: nodeConfig.url, check: active, tls: cluster.tls });
      return node;
    });
    const ring = rings.get(name)!;
    // A ring made new for a changed node list holds the config's weights: the nodes that stay keep
    // the points they had (a node new here has none), and the next update publishes from them.
    const fresh = previous !== undefined && previous.ring !== ring;
    const published = previous === undefined ? pointsOnRing(ring, nodes.length) : fresh ? nodes.map((node) => node.points) : previous.published;
    nodes.forEach((node, i) => (node.points = published[i]!));
    clusters.push({
      name,
      index: numbering.clusters[name]!,
      nodes,
      ring,
      panicThreshold: cluster.panicThreshold,
      slowStart: { rampMs: cluster.slowStartMs },
      panic: previous?.panic ?? false,
      zoneFallback: previous?.zoneFallback ?? false,
      healthCheck: active,
      maxInFlight: cluster.maxInFlight ?? null,
      published,
      fresh: fresh || previous?.fresh === true,
    });
    if (previous === undefined) {
      setClusterPanic(table, numbering.clusters[name]!, false);
      setZoneFallback(table, numbering.clusters[name]!, false);
    }
  }
  return { clusters, byIndex, byId, probeTargets, judgedByBreaker };
}

/** The nodes named `id`: in `cluster`, or in any when it is undefined. */
export function namedNodes(roster: NodeRoster, id: string, cluster: string | undefined): readonly Node[] {
  const named = roster.byId.get(id) ?? [];
  return cluster === undefined ? named : named.filter((node) => roster.clusters[node.cluster]!.name === cluster);
}

/** Why an id names `count` nodes where it must name one. */
export function notOneNode(count: number, cluster: string | undefined): string {
  if (count > 1) return 'several clusters have a node with this id: name its cluster';
  return cluster === undefined ? 'no node has this id' : `cluster ${JSON.stringify(cluster)} has no node with this id`;
}

/** The node-table index of node `id` in `cluster`, or of the only node so named when `cluster` is undefined; else why not. */
export function nodeIndex(roster: NodeRoster, id: string, cluster: string | undefined): number | string {
  const matches = namedNodes(roster, id, cluster);
  return matches.length === 1 ? matches[0]!.index : notOneNode(matches.length, cluster);
}

/** The running config of node `id` in `cluster`, when exactly one node is so named; else null. */
export function nodeConfigOf(roster: NodeRoster, id: string, cluster: string): Node['config'] | null {
  const matches = namedNodes(roster, id, cluster);
  return matches.length === 1 ? matches[0]!.config : null;
}

/** Why `id` (in `cluster`) would not name exactly one node once `adding` more so named join (fewer when negative); null when it would. */
export function whyNotOne(roster: NodeRoster, id: string, cluster: string | undefined, adding: number): string | null {
  const count = namedNodes(roster, id, cluster).length + adding;
  return count === 1 ? null : notOneNode(count, cluster);
}
