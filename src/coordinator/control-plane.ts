import { z } from 'zod';
import { lowerScheme } from '../config/primitives.js';
import { nodeSchema, type NodeConfig } from '../config/schema.js';
import type { AnsweredCode } from '../errors.js';
import type { Logger } from '../log.js';
import { RoutingMode, setRoutingMode, type NodeTable } from '../shm/node-table.js';
import type { NodeMonitor } from './node-monitor.js';
import { nodeConfigOf, nodeIndex, whyNotOne } from './node-roster.js';
import { describeIssue, shownValue } from './push-issue.js';
import type { NodePush } from './node-state.js';
import type { NodeChange, ReloadOutcome } from './reloader.js';

/** A push may be this far ahead of the gateway's clock (clock skew between hosts), no further. */
const MAX_FUTURE_MS = 2_000;

const score = z.number().min(0).max(1);

/** `POST /v1/nodes`: what a controller knows of each node, stamped with its clock (epoch ms). */
const pushSchema = z.strictObject({
  timestamp: z.number().int().nonnegative(),
  nodes: z
    .array(
      z.strictObject({
        id: z.string().min(1),
        /** Needed only when several clusters have a node with this id. */
        cluster: z.string().min(1).optional(),
        health: score.optional(),
        cacheHitRate: score.optional(),
        azCost: z.number().min(1).max(1000).optional(),
        /** A node the config does not have: added to `cluster` (until the next reload from the file). */
        url: z.string().optional(),
        zone: z.string().optional(),
        /** Removes the node from `cluster` (until the next reload from the file): an entry with nothing else. */
        remove: z.literal(true).optional(),
      }),
    )
    .min(1)
    .max(100_000),
});

type PushEntries = z.output<typeof pushSchema>['nodes'];

/** Node id → the clusters of the nodes so named in `nodes`. */
function clustersById(nodes: readonly { readonly cluster: string; readonly id: string }[]): Map<string, string[]> {
  const byId = new Map<string, string[]>();
  for (const { cluster, id } of nodes) {
    const clusters = byId.get(id);
    if (clusters === undefined) byId.set(id, [cluster]);
    else clusters.push(cluster);
  }
  return byId;
}

export type PushOutcome = { readonly ok: true; readonly applied: number } | { readonly ok: false; readonly code: AnsweredCode; readonly error: string };

/**
 * The control plane's side of node state: validates a push whole before anything is applied
 * (schema, clock, every node resolved), applies it through the node monitor, and watches for
 * staleness: once pushes have started, none for GATEWAY_CONTROL_TTL_MS switches every cluster to
 * least-connections over healthy nodes until they resume (DESIGN: "Control plane stale").
 */
export class ControlPlane {
  readonly #monitor: NodeMonitor;
  readonly #changeNodes: (change: NodeChange) => ReloadOutcome;
  readonly #table: NodeTable;
  readonly #ttlMs: number;
  /** The wall clock a push's timestamp is checked against. */
  readonly #wallClock: () => number;
  /** A monotonic clock (ms) staleness is timed by: a wall clock stepped back an hour kept a silent control plane fresh for the hour. */
  readonly #clock: () => number;
  readonly #log: Logger;
  #lastTimestamp = -Infinity;
  /** When the last push was applied (#clock); null before the first. */
  #lastPushAt: number | null = null;
  #stale = false;

  constructor(
    monitor: NodeMonitor,
    /** Adds nodes to the running config and removes others, as a reload would (reloader.ts). */
    changeNodes: (change: NodeChange) => ReloadOutcome,
    table: NodeTable,
    ttlMs: number,
    wallClock: () => number,
    clock: () => number,
    log: Logger,
  ) {
    this.#monitor = monitor;
    this.#changeNodes = changeNodes;
    this.#table = table;
    this.#ttlMs = ttlMs;
    this.#wallClock = wallClock;
    this.#clock = clock;
    this.#log = log;
  }

  get mode(): 'ring' | 'least-connections' {
    return this.#stale ? 'least-connections' : 'ring';
  }

  push(body: unknown): PushOutcome {
    const parsed = pushSchema.safeParse(body);
    if (!parsed.success) {
      return { ok: false, code: 'ERR_BAD_PUSH', error: describeIssue(parsed.error.issues[0]!, body) };
    }
    const { timestamp, nodes } = parsed.data;
    const now = this.#wallClock();
    if (timestamp > now + MAX_FUTURE_MS) {
      return { ok: false, code: 'ERR_PUSH_FROM_FUTURE', error: `timestamp ${timestamp} is ${timestamp - now} ms ahead of the gateway clock` };
    }
    if (timestamp < this.#lastTimestamp) {
      return { ok: false, code: 'ERR_PUSH_OUT_OF_ORDER', error: `timestamp ${timestamp} is older than the last applied push (${this.#lastTimestamp})` };
    }
    const added = this.#newNodes(nodes);
    if ('error' in added) return { ok: false, code: 'ERR_BAD_PUSH', error: added.error };
    const removed = this.#removedNodes(nodes);
    if ('error' in removed) return { ok: false, code: 'ERR_BAD_PUSH', error: removed.error };
    // Every other entry must name one node of the roster as it will be, before anything is applied.
    const addedClusters = clustersById(added.nodes.map(({ cluster, node }) => ({ cluster, id: node.id })));
    const removedClusters = clustersById(removed.nodes);
    const inCluster = (cluster: string | undefined) => (other: string) => cluster === undefined || other === cluster;
    for (const [i, node] of nodes.entries()) {
      if (node.url !== undefined || node.remove === true) continue;
      const adding = (addedClusters.get(node.id) ?? []).filter(inCluster(node.cluster)).length;
      const removing = (removedClusters.get(node.id) ?? []).filter(inCluster(node.cluster)).length;
      const why = whyNotOne(this.#monitor.roster, node.id, node.cluster, adding - removing);
      if (why !== null) return { ok: false, code: 'ERR_BAD_PUSH', error: `nodes.${i}.id = ${shownValue(node.id)}: ${why}` };
    }
    if (added.nodes.length > 0 || removed.nodes.length > 0) {
      const outcome = this.#changeNodes({ added: added.nodes, removed: removed.nodes });
      if (!outcome.ok) return { ok: false, code: 'ERR_BAD_PUSH', error: `nodes: ${outcome.error}` };
    }
    const resolved: NodePush[] = [];
    for (const [i, node] of nodes.entries()) {
      if (node.remove === true) continue;
      const index = nodeIndex(this.#monitor.roster, node.id, node.cluster);
      if (typeof index === 'string') return { ok: false, code: 'ERR_BAD_PUSH', error: `nodes.${i}.id = ${shownValue(node.id)}: ${index}` };
      resolved.push({ index, health: node.health, cacheHitRate: node.cacheHitRate, azCost: node.azCost });
    }
    this.#monitor.applyPush(resolved, this.#ttlMs);
    this.#lastTimestamp = timestamp;
    this.#lastPushAt = this.#clock();
    if (this.#stale) this.#setStale(false);
    return { ok: true, applied: nodes.length };
  }

  /**
   * The entries that remove a node: each names a node in a cluster, with nothing else, and no other
   * entry adds it back; or the first entry that is not so. A node its cluster does not have (any
   * more) is no error: a controller sending a removal again after a lost answer, or its whole list
   * each time, must not have the push refused.
   */
  #removedNodes(nodes: PushEntries): { nodes: { cluster: string; id: string }[] } | { error: string } {
    const out: { cluster: string; id: string }[] = [];
    const seen = new Set<string>();
    // A push may hold 100,000 entries: one pass over those that add, not one per removal.
    const adding = new Set(nodes.flatMap((entry) => (entry.url === undefined ? [] : [`${entry.cluster}\n${entry.id}`])));
    for (const [i, entry] of nodes.entries()) {
      if (entry.remove !== true) continue;
      const { id, cluster } = entry;
      const extra = (['health', 'cacheHitRate', 'azCost', 'url', 'zone'] as const).find((key) => entry[key] !== undefined);
      if (extra !== undefined) return { error: `nodes.${i}.${extra} = ${shownValue(entry[extra], extra)}: a node removed by a push takes nothing else` };
      if (cluster === undefined) return { error: `nodes.${i}.cluster = missing: a node removed by a push needs its cluster` };
      if (!this.#monitor.roster.clusters.some((c) => c.name === cluster)) return { error: `nodes.${i}.cluster = ${shownValue(cluster)}: no such cluster` };
      const key = `${cluster}\n${id}`;
      if (adding.has(key)) return { error: `nodes.${i}.id = ${shownValue(id)}: removed and added by the same push` };
      if (seen.has(key) || nodeConfigOf(this.#monitor.roster, id, cluster) === null) continue;
      seen.add(key);
      out.push({ cluster, id });
    }
    return { nodes: out };
  }

  /**
   * The entries that bring a url: nodes to add, each checked as the config checks a node, in a
   * named cluster, under an id that cluster does not have yet; or the first entry that is not.
   */
  #newNodes(nodes: PushEntries): { nodes: { cluster: string; node: NodeConfig }[] } | { error: string } {
    const out: { cluster: string; node: NodeConfig }[] = [];
    const seen = new Set<string>();
    for (const [i, entry] of nodes.entries()) {
      if (entry.url === undefined) {
        if (entry.zone !== undefined) return { error: `nodes.${i}.zone = ${shownValue(entry.zone)}: only a node added by this push (with a url) takes a zone` };
        continue;
      }
      if (entry.cluster === undefined) return { error: `nodes.${i}.cluster = missing: a node added by a push needs its cluster` };
      const running = nodeConfigOf(this.#monitor.roster, entry.id, entry.cluster);
      if (running !== null) {
        // Sent again as it was added (a retry after a lost answer, or a controller sending its whole
        // list each time): nothing to add; its other fields apply as to any node's entry.
        if (running.url === lowerScheme(entry.url) && (entry.zone === undefined || running.az === entry.zone)) continue;
        return { error: `nodes.${i}.url = ${shownValue(entry.url, 'url')}: node ${shownValue(entry.id)} exists with another url or zone; they come from the config, or the push that added it` };
      }
      const key = `${entry.cluster}\n${entry.id}`;
      if (seen.has(key)) return { error: `nodes.${i}.id = ${shownValue(entry.id)}: added twice` };
      seen.add(key);
      const node = nodeSchema.safeParse({ id: entry.id, url: entry.url, ...(entry.zone === undefined ? {} : { az: entry.zone }) });
      if (!node.success) {
        const issue = node.error.issues[0]!;
        const key = issue.path[0] === 'az' ? 'zone' : String(issue.path[0]);
        return { error: `nodes.${i}.${key} = ${shownValue(entry[key as 'id' | 'url' | 'zone'], key)}: ${issue.message}` };
      }
      out.push({ cluster: entry.cluster, node: node.data });
    }
    return { nodes: out };
  }

  /** Called every window: switches to least-connections once pushes have stopped for the TTL. */
  tick(): void {
    if (this.#stale || this.#lastPushAt === null) return;
    if (this.#clock() - this.#lastPushAt > this.#ttlMs) this.#setStale(true);
  }

  #setStale(stale: boolean): void {
    this.#stale = stale;
    setRoutingMode(this.#table, stale ? RoutingMode.LeastConnections : RoutingMode.Ring);
    if (stale) this.#log.warn({ ttlMs: this.#ttlMs }, 'control plane stale: routing by least connections over healthy nodes');
    else this.#log.info('control plane back: routing by the ring again');
  }
}
