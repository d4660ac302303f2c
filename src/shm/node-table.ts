/**
 * Per-node counters shared by every thread (DESIGN's node table: in-flight and requests so far),
 * each cluster's in-flight total, which bounded-load routing compares a node against, and one lane
 * per acceptor thread holding that thread's share of each node's in-flight count, so that the
 * coordinator can take back what a thread that died was holding; and each node's health, which
 * the coordinator writes and the selection predicate reads. Slots: node-numbering.ts; the table
 * has room for GATEWAY_MAX_NODES, so nodes added by a reload fit without a new table.
 *
 * Layout, Int32 words:
 *   NODE_COUNT, CLUSTER_COUNT, LANE_COUNT            coordinator, once at creation: the capacities
 *   ROUTING_MODE  RoutingMode: the ring, or least-    coordinator Atomics.store when the control plane
 *                 connections while the control       goes stale or comes back; acceptors
 *                 plane is stale                      Atomics.load per request
 *   per node n, NODE_WORDS at NODES_OFFSET + n × NODE_WORDS:
 *     IN_FLIGHT   requests given to the node that     acceptor Atomics.add(+1) when it picks the node,
 *                 it has not answered yet             Atomics.sub(1) once the node is done with the
 *                                                     request (before the client sees the answer's end);
 *                                                     coordinator Atomics.sub(a dead thread's lane)
 *     REQUESTS    requests given to the node, ever    acceptor Atomics.add(+1) when it picks the node
 *                 (wraps past 2^31; read unsigned)    (this and the other counters: coordinator
 *                                                     Atomics.store(0) in initNode, for a reused slot)
 *     CLUSTER     the node's cluster index            coordinator, when it gives the slot out (initNode)
 *     HEALTH      health score × HEALTH_SCALE (0 to   coordinator Atomics.store each window; acceptors
 *                 HEALTH_SCALE), HEALTH_SCALE from    Atomics.load in the selection predicate
 *                 initNode
 *     FAILURES    answers that were 5xx, timeouts or  acceptor Atomics.add(+1) when the request ends
 *                 malformed, ever (wraps; unsigned)
 *     CONNECT_FAILURES  requests the node refused or  acceptor Atomics.add(+1) when the request ends
 *                 reset before answering, ever
 *     CONNECT_STREAK  connection failures in a row    acceptor Atomics.add(+1, or the down mark for a
 *                 (a refusal counts as all of them)   refused connection) with CONNECT_FAILURES,
 *                                                     Atomics.store(0) on an answer when not 0;
 *                                                     coordinator Atomics.store(0) once it marked the
 *                                                     node down for it
 *     LOCAL_ZONE  1: in the gateway's zone (or zone    coordinator, Atomics.store at initNode (1) and
 *                 affinity off)                       when it learns the node's zone
 *     CACHE_LOOKUPS  answers carrying the cluster's   acceptor Atomics.add(+1) when the request ends
 *                 cache header, ever (wraps)
 *     CACHE_HITS  those saying hit, ever (wraps)      acceptor Atomics.add(+1) alongside
 *   per cluster c, CLUSTER_WORDS at clustersOffset + c × CLUSTER_WORDS:
 *     CLUSTER_IN_FLIGHT  the sum of its nodes'        written alongside each IN_FLIGHT change, by the
 *                 IN_FLIGHT                           same party with the same operation
 *     PANIC       1 while too few of its nodes are    coordinator Atomics.store each window; acceptors
 *                 healthy: route over all of them     Atomics.load in the selection predicate
 *     ZONE_FALLBACK  1 while its local nodes are too  coordinator Atomics.store each window; acceptors
 *                 unhealthy: other zones may serve    Atomics.load for a node of another zone
 *     SERVING_NODES  how many of its nodes may take   coordinator Atomics.store each window, after
 *                 requests now (usable, in a zone it  health and panic; acceptors Atomics.load per
 *                 may use, breaker closed): the load  request for the load bound
 *                 bound's mean is over these
 *   per lane t (an acceptor thread's index), nodeCount words at lanesOffset + t × nodeCount:
 *     thread t's share of each node's IN_FLIGHT        acceptor t Atomics.add / Atomics.sub alongside
 *                                                     IN_FLIGHT; coordinator Atomics.exchange(0) once
 *                                                     thread t has exited, before it restarts
 * The global words are written on every request by every thread; two threads' counters for one
 * node sit on one cache line, which costs less than padding thousands of nodes apart.
 */
import type { NodeUsability } from '../routing/node-usability.js';
import type { NodeLoads } from '../routing/selection.js';

export const NODE_COUNT = 0;
export const CLUSTER_COUNT = 1;
export const LANE_COUNT = 2;
export const ROUTING_MODE = 3;
/** Nodes start a cache line (16 words) in: every request reads ROUTING_MODE, and node 0's counters are written by every thread. */
export const NODES_OFFSET = 16;

export const enum RoutingMode {
  /** Consistent hashing by the request's key (tenant affinity). */
  Ring = 0,
  /** The least loaded usable node, whatever the key: the control plane's data is stale. */
  LeastConnections = 1,
}

export const IN_FLIGHT = 0;
export const REQUESTS = 1;
export const CLUSTER = 2;
export const HEALTH = 3;
export const FAILURES = 4;
export const CONNECT_FAILURES = 5;
export const CONNECT_STREAK = 6;
export const LOCAL_ZONE = 7;
export const CACHE_LOOKUPS = 8;
export const CACHE_HITS = 9;
export const NODE_WORDS = 10;

export const CLUSTER_IN_FLIGHT = 0;
export const PANIC = 1;
export const ZONE_FALLBACK = 2;
export const SERVING_NODES = 3;
export const CLUSTER_WORDS = 4;

/** Health scores in [0, 1] are kept as integers: the score × HEALTH_SCALE. */
export const HEALTH_SCALE = 1000;

export interface NodeTable {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly count: number;
  readonly clusterCount: number;
  readonly laneCount: number;
  /** Word offset of cluster 0's words. */
  readonly clustersOffset: number;
  /** Word offset of lane 0. */
  readonly lanesOffset: number;
}

function clustersOffsetFor(nodeCount: number): number {
  return NODES_OFFSET + nodeCount * NODE_WORDS;
}

function lanesOffsetFor(nodeCount: number, clusterCount: number): number {
  return clustersOffsetFor(nodeCount) + clusterCount * CLUSTER_WORDS;
}

/** Word offset of one of node n's fields. */
function nodeWord(node: number, field: number): number {
  return NODES_OFFSET + node * NODE_WORDS + field;
}

/** Word offset of one of cluster c's fields. */
function clusterWord(table: NodeTable, cluster: number, field: number): number {
  return table.clustersOffset + cluster * CLUSTER_WORDS + field;
}

/** Coordinator: a table with room for `nodeCapacity` nodes, `clusterCapacity` clusters and `lanes` acceptor threads. */
export function createNodeTable(nodeCapacity: number, clusterCapacity: number, lanes: number): NodeTable {
  const words = lanesOffsetFor(nodeCapacity, clusterCapacity) + lanes * nodeCapacity;
  const buffer = new SharedArrayBuffer(words * Int32Array.BYTES_PER_ELEMENT);
  const view = new Int32Array(buffer);
  Atomics.store(view, NODE_COUNT, nodeCapacity);
  Atomics.store(view, CLUSTER_COUNT, clusterCapacity);
  Atomics.store(view, LANE_COUNT, lanes);
  return attachNodeTable(buffer);
}

/**
 * Coordinator, when a slot is given to a node (node-numbering.ts): its cluster; healthy and local
 * until known otherwise; counters from 0 (a slot given back by a removed node holds its counts,
 * but no in-flight request: it is given back only once none can be running).
 */
export function initNode(table: NodeTable, node: number, cluster: number): void {
  const words = table.words;
  for (const counter of [REQUESTS, FAILURES, CONNECT_FAILURES, CONNECT_STREAK, CACHE_LOOKUPS, CACHE_HITS]) Atomics.store(words, nodeWord(node, counter), 0);
  Atomics.store(words, nodeWord(node, CLUSTER), cluster);
  Atomics.store(words, nodeWord(node, HEALTH), HEALTH_SCALE);
  Atomics.store(words, nodeWord(node, LOCAL_ZONE), 1);
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
  Atomics.add(words, clusterWord(table, cluster, CLUSTER_IN_FLIGHT), 1);
  Atomics.add(words, table.lanesOffset + lane * table.count + node, 1);
}

/** Acceptor on lane `lane`: the node is done with a request given to it (answered, failed, or abandoned). */
export function finishNodeRequest(table: NodeTable, lane: number, node: number, cluster: number): void {
  const words = table.words;
  Atomics.sub(words, nodeWord(node, IN_FLIGHT), 1);
  Atomics.sub(words, clusterWord(table, cluster, CLUSTER_IN_FLIGHT), 1);
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
    Atomics.sub(words, clusterWord(table, Atomics.load(words, nodeWord(node, CLUSTER)), CLUSTER_IN_FLIGHT), held);
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
  return Atomics.load(table.words, clusterWord(table, cluster, CLUSTER_IN_FLIGHT));
}

/** How a request given to a node ended, as far as the node's health is concerned. */
export const enum NodeOutcome {
  /** The node answered below 500. */
  Answered = 0,
  /** A 5xx answer, a timeout, or a malformed response. */
  Failed = 1,
  /** Refused or reset before any answer. */
  ConnectFailed = 2,
  /** The client went away first: says nothing about the node. */
  Unknown = 3,
}

/**
 * Acceptor, when a request given to `node` ends. A connection failure adds `streakStep` to the
 * node's streak: 1 for a reset or a timeout, enough to reach the down mark at once for a refusal
 * (nothing listens there: no point sending the next request).
 */
export function recordNodeOutcome(table: NodeTable, node: number, outcome: NodeOutcome, streakStep = 1): void {
  const words = table.words;
  if (outcome === NodeOutcome.Unknown) return;
  if (outcome === NodeOutcome.ConnectFailed) {
    Atomics.add(words, nodeWord(node, CONNECT_FAILURES), 1);
    Atomics.add(words, nodeWord(node, CONNECT_STREAK), streakStep);
    return;
  }
  if (outcome === NodeOutcome.Failed) Atomics.add(words, nodeWord(node, FAILURES), 1);
  // Any answer ends a streak of connection failures; a load first keeps the common case read-only.
  if (Atomics.load(words, nodeWord(node, CONNECT_STREAK)) !== 0) Atomics.store(words, nodeWord(node, CONNECT_STREAK), 0);
}

/** Acceptor: an answer of `node` carried the cluster's cache header, saying hit or not. */
export function recordCacheLookup(table: NodeTable, node: number, hit: boolean): void {
  Atomics.add(table.words, nodeWord(node, CACHE_LOOKUPS), 1);
  if (hit) Atomics.add(table.words, nodeWord(node, CACHE_HITS), 1);
}

/** A node's running totals, for the coordinator's windows (it keeps the last values and takes differences). */
export interface NodeCounters {
  requests: number;
  failures: number;
  connectFailures: number;
  connectStreak: number;
  cacheLookups: number;
  cacheHits: number;
}

/** Coordinator: reads node n's counters into `into` (no allocation per window). */
export function readNodeCounters(table: NodeTable, node: number, into: NodeCounters): void {
  const words = table.words;
  into.requests = Atomics.load(words, nodeWord(node, REQUESTS)) >>> 0;
  into.failures = Atomics.load(words, nodeWord(node, FAILURES)) >>> 0;
  into.connectFailures = Atomics.load(words, nodeWord(node, CONNECT_FAILURES)) >>> 0;
  into.connectStreak = Atomics.load(words, nodeWord(node, CONNECT_STREAK));
  into.cacheLookups = Atomics.load(words, nodeWord(node, CACHE_LOOKUPS)) >>> 0;
  into.cacheHits = Atomics.load(words, nodeWord(node, CACHE_HITS)) >>> 0;
}

/** Coordinator: the node was marked down for its connection failures; a new streak starts from 0. */
export function resetConnectStreak(table: NodeTable, node: number): void {
  Atomics.store(table.words, nodeWord(node, CONNECT_STREAK), 0);
}

/** Coordinator: node n's health score in [0, 1]. */
export function setNodeHealth(table: NodeTable, node: number, score: number): void {
  // Down, not to the nearest: a node just under the usable health must read as under it.
  Atomics.store(table.words, nodeWord(node, HEALTH), Math.floor(Math.min(1, Math.max(0, score)) * HEALTH_SCALE));
}

export function nodeHealth(table: NodeTable, node: number): number {
  return Atomics.load(table.words, nodeWord(node, HEALTH)) / HEALTH_SCALE;
}

/** Coordinator: whether cluster c routes over all its nodes, healthy or not (panic mode). */
export function setClusterPanic(table: NodeTable, cluster: number, panic: boolean): void {
  Atomics.store(table.words, clusterWord(table, cluster, PANIC), panic ? 1 : 0);
}

/** Coordinator: how every cluster routes from now on. */
export function setRoutingMode(table: NodeTable, mode: RoutingMode): void {
  Atomics.store(table.words, ROUTING_MODE, mode);
}

export function routingMode(table: NodeTable): RoutingMode {
  return Atomics.load(table.words, ROUTING_MODE) as RoutingMode;
}

/** Coordinator, at start: whether node n is in the gateway's zone (always, without zone affinity). */
export function setNodeLocal(table: NodeTable, node: number, local: boolean): void {
  Atomics.store(table.words, nodeWord(node, LOCAL_ZONE), local ? 1 : 0);
}

/** Coordinator: whether cluster c's requests may go to other zones (its local nodes are too unhealthy). */
export function setZoneFallback(table: NodeTable, cluster: number, fallback: boolean): void {
  Atomics.store(table.words, clusterWord(table, cluster, ZONE_FALLBACK), fallback ? 1 : 0);
}

export function zoneFallback(table: NodeTable, cluster: number): boolean {
  return Atomics.load(table.words, clusterWord(table, cluster, ZONE_FALLBACK)) === 1;
}

export function clusterPanic(table: NodeTable, cluster: number): boolean {
  return Atomics.load(table.words, clusterWord(table, cluster, PANIC)) === 1;
}

/** Coordinator: how many of cluster c's nodes the selection may give a request to now. */
export function setServingNodes(table: NodeTable, cluster: number, count: number): void {
  Atomics.store(table.words, clusterWord(table, cluster, SERVING_NODES), count);
}

/**
 * The nodes cluster c's load bound takes its mean over: those that may serve, not every node
 * configured, or the nodes left carry more than the mean of all and read as over the bound. At
 * least 1: before the coordinator's first count, and while none may serve.
 */
export function servingNodes(table: NodeTable, cluster: number): number {
  return Math.max(1, Atomics.load(table.words, clusterWord(table, cluster, SERVING_NODES)));
}

/**
 * Whether each node of one cluster may take requests, read in place by the selection predicate:
 * in the gateway's zone (unless the cluster falls back to other zones), and healthy enough and not
 * failing to connect (or any node while the cluster is in panic mode).
 */
export class ClusterNodeStates implements NodeUsability {
  readonly #words: Int32Array;
  /** Word offset of each member's fields. */
  readonly #at: Int32Array;
  readonly #panic: number;
  readonly #zoneFallback: number;
  readonly #zoneAffinity: boolean;
  readonly #minHealth: number;
  readonly #downStreak: number;

  /** `members`: the node-table slots of the cluster's nodes; `usableHealth` a score in [0, 1]. */
  constructor(
    table: NodeTable,
    members: readonly number[],
    cluster: number,
    options: { usableHealth: number; connectFailuresDown: number; zoneAffinity: boolean },
  ) {
    this.#words = table.words;
    this.#at = Int32Array.from(members, (node) => nodeWord(node, 0));
    this.#panic = clusterWord(table, cluster, PANIC);
    this.#zoneFallback = clusterWord(table, cluster, ZONE_FALLBACK);
    this.#zoneAffinity = options.zoneAffinity;
    this.#minHealth = Math.round(options.usableHealth * HEALTH_SCALE);
    this.#downStreak = options.connectFailuresDown;
  }

  usable(node: number): boolean {
    const words = this.#words;
    const at = this.#at[node]!;
    if (this.#zoneAffinity && Atomics.load(words, at + LOCAL_ZONE) === 0 && Atomics.load(words, this.#zoneFallback) === 0) return false;
    if (Atomics.load(words, this.#panic) === 1) return true;
    return Atomics.load(words, at + HEALTH) >= this.#minHealth && Atomics.load(words, at + CONNECT_STREAK) < this.#downStreak;
  }
}

/** The in-flight counts of one cluster's nodes, read in place by the selection walk. */
export class ClusterLoads implements NodeLoads {
  readonly #words: Int32Array;
  /** Word offset of each member's IN_FLIGHT. */
  readonly #at: Int32Array;

  /** `members`: the node-table slots of the cluster's nodes, in the ring's member order. */
  constructor(table: NodeTable, members: readonly number[]) {
    this.#words = table.words;
    this.#at = Int32Array.from(members, (node) => nodeWord(node, IN_FLIGHT));
  }

  load(node: number): number {
    return Atomics.load(this.#words, this.#at[node]!);
  }
}
