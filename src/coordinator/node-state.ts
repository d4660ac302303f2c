import type { GatewayConfig } from '../config/load.js';
import type { HealthCheckConfig } from '../config/schema.js';
import { NodeHealth, PASSIVE_DEFAULTS, USABLE_HEALTH, type HealthReason } from '../resilience/node-health.js';
import { nextCacheLocality, slowStartFactor, zoneCost, type NodeWeightInput, type SlowStartOptions } from '../routing/node-weight.js';
import type { NodeCounters } from '../shm/node-table.js';
import type { ClusterRing } from './rings.js';

/** What the coordinator knows of one node (node-monitor.ts keeps these). */
export interface Node {
  readonly index: number;
  /** Its cluster's position in the monitor's list (a reload may move it). */
  cluster: number;
  readonly id: string;
  /** Its config (a reload may change its url, zone or weight; a node is its cluster's name and its id). */
  config: GatewayConfig['clusters'][string]['nodes'][number];
  /** Replaced when a reload changes the cluster's health checks. */
  health: NodeHealth;
  activeChecks: boolean;
  /** Counter totals at the last window: the window is the difference. */
  readonly last: NodeCounters;
  /** Requests given to it up to `last.requests`, as a number that does not wrap as the word does. */
  requestsBefore: number;
  /** When the node last became usable (slow start counts from here); -Infinity: since before start. */
  usableSince: number;
  score: number;
  points: number;
  /** Measured from the cluster's cache header; undefined: unknown (the weight uses the default). */
  measuredLocality: number | undefined;
  /** Pushed by the control plane, which wins over the measured one while fresh. */
  pushedLocality: number;
  pushedLocalityUntil: number;
  /** Pushed by the control plane, overriding the zone's cost. */
  azCost: number | undefined;
}

/** One node's values in a control-plane push, its node resolved to a node-table index. */
export interface NodePush {
  readonly index: number;
  readonly health?: number | undefined;
  readonly cacheHitRate?: number | undefined;
  readonly azCost?: number | undefined;
}

export interface Cluster {
  readonly name: string;
  readonly index: number;
  readonly nodes: Node[];
  readonly ring: ClusterRing;
  readonly panicThreshold: number;
  readonly slowStart: Partial<SlowStartOptions>;
  panic: boolean;
  /** Zone affinity: other zones may serve while the local nodes' mean health is too low. */
  zoneFallback: boolean;
  /** Its health checks, to see whether a reload changed them. */
  readonly healthCheck: HealthCheckConfig | null;
  /** Requests a node may hold at once (cluster maxInFlight); null: no limit. */
  readonly maxInFlight: number | null;
  /** Points of each node (by index in the cluster) in the ring last published. */
  published: number[];
  /**
   * The ring was made new for a changed node list (topology.ts) with the config's weights, and
   * `published` holds the points the staying nodes had on the ring before it: the next update
   * publishes whatever it wants, so that those nodes keep their keys.
   */
  fresh?: boolean;
}

export interface NodeStateView {
  /** The node's index in the shared node table. */
  readonly index: number;
  readonly cluster: string;
  readonly node: string;
  readonly url: string;
  readonly zone: string;
  readonly health: number;
  /** Why the node is in or out of routing. */
  readonly reason: HealthReason;
  readonly weight: number;
  /** Points in the ring acceptors read now (0: off the ring). */
  readonly points: number;
  /** 'passing' | 'failing' while active checks run, 'off' without them. */
  readonly activeCheck: 'passing' | 'failing' | 'off';
  /** Slow-start progress: the share of its weight the node has now. */
  readonly slowStart: number;
  /** Its cluster's maxInFlight; null: no limit. */
  readonly maxInFlight: number | null;
  /** Requests given to it so far: only ever more (its shared word wraps past 2^32; this does not). */
  readonly requests: number;
}

/** One window's differences of a node's counters. */
export interface NodeWindow {
  requests: number;
  failures: number;
  connectFailures: number;
}

/** A node as first seen: assumed healthy, on the ring at its full weight, never measured. */
export function createNode(index: number, cluster: number, config: Node['config'], active: HealthCheckConfig | null): Node {
  return {
    index,
    cluster,
    id: config.id,
    config,
    health: new NodeHealth(active, PASSIVE_DEFAULTS),
    activeChecks: active !== null,
    last: { requests: 0, failures: 0, connectFailures: 0, connectStreak: 0, cacheLookups: 0, cacheHits: 0 },
    requestsBefore: 0,
    usableSince: -Infinity,
    score: 1,
    points: 0,
    measuredLocality: undefined,
    pushedLocality: 1,
    pushedLocalityUntil: -Infinity,
    azCost: undefined,
  };
}

/**
 * The window since the last into `into`: `counters` (read now) less `node.last`, which moves on to
 * them. Counters wrap past 2^32: differences modulo 2^32 stay right, and add up to the requests so
 * far as a number that does not wrap (the windows read the word far more often than it wraps).
 */
export function takeWindow(node: Node, counters: NodeCounters, into: NodeWindow): NodeWindow {
  const { last } = node;
  into.requests = (counters.requests - last.requests) >>> 0;
  into.failures = (counters.failures - last.failures) >>> 0;
  into.connectFailures = (counters.connectFailures - last.connectFailures) >>> 0;
  node.measuredLocality = nextCacheLocality(node.measuredLocality, (counters.cacheLookups - last.cacheLookups) >>> 0, (counters.cacheHits - last.cacheHits) >>> 0);
  node.requestsBefore += into.requests;
  Object.assign(last, counters);
  return into;
}

/**
 * A node's state for GET /v1/nodes and the metrics; `weight` is its ring weight now, `requests` its
 * shared requests word now (read unsigned): added to the windows' as the window would add it, so
 * the count exported never falls back at the wrap, which Prometheus would read as a restart.
 */
export function viewOf(cluster: Cluster, node: Node, now: number, weight: number, requests: number): NodeStateView {
  const reason = node.health.reason(now);
  return {
    index: node.index,
    cluster: cluster.name,
    node: node.id,
    url: node.config.url,
    zone: node.config.az,
    health: node.score,
    reason,
    weight,
    points: node.points,
    activeCheck: node.activeChecks ? (reason === 'check-failing' ? 'failing' : 'passing') : 'off',
    slowStart: slowStartFactor(now - node.usableSince, cluster.slowStart),
    maxInFlight: cluster.maxInFlight,
    requests: node.requestsBefore + ((requests - node.last.requests) >>> 0),
  };
}

/** What a node's ring weight is computed from now. In panic mode every node stays on the ring (the predicate lets them all through too). */
export function weightInput(node: Node, now: number, panic: boolean, settings: GatewayConfig['settings']): NodeWeightInput {
  return {
    configWeight: node.config.weight,
    health: panic ? Math.max(node.score, USABLE_HEALTH) : node.score,
    cacheLocality: now < node.pushedLocalityUntil ? node.pushedLocality : node.measuredLocality,
    azCost: node.azCost ?? zoneCost(node.config.az, settings.zone, settings.zoneCosts, settings.otherZoneCost),
    msSinceUsable: now - node.usableSince,
  };
}
