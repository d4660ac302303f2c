import type { UpstreamDispatcher } from '../upstream/dispatcher.js';
import type { GatewayConfig } from '../config/load.js';
import { zoneAffinity } from '../config/zones.js';
import { PASSIVE_DEFAULTS, USABLE_HEALTH } from '../resilience/node-health.js';
import { BoundedLoad } from '../routing/bounded-load.js';
import { UsableNodes } from '../routing/node-usability.js';
import { SaturationLimit } from '../routing/saturation.js';
import { AvoidedNodes } from '../routing/avoided-nodes.js';
import { CircuitGate } from '../routing/circuit-gate.js';
import { RetryPolicy } from '../resilience/retry-policy.js';
import { ClusterBreakers, type BreakerTable } from '../shm/breaker-table.js';
import type { CompiledRoute, RouteTable } from '../routing/route-table.js';
import type { NodeNumbering } from '../shm/node-numbering.js';
import { ClusterLoads, ClusterNodeStates, type NodeTable } from '../shm/node-table.js';
import type { SharedRing } from '../shm/ring-buffer.js';
import { ClusterSelector } from './cluster-selector.js';
import { RawHeaderNames } from '../upstream/raw-header-names.js';
import { unbracketed } from '../upstream/node-names.js';
import type { RequestRecorder } from '../metrics/request-recorder.js';
import type { ZoneCrossings } from '../metrics/zone-crossings.js';
import type { TenantKeyer } from '../hash.js';

/**
 * Everything a route's requests need after admission, resolved once at start-up: its cluster's
 * ring, pools, node-table indices and selector. Phases a route does not use have nothing here.
 */
export interface RoutePlan {
  readonly route: CompiledRoute;
  readonly ring: SharedRing;
  /**
   * One pool per node of the cluster, in the cluster's node order (what the ring walk returns);
   * the thread's UpstreamPools swaps a node's entry when its name moves to a new address.
   */
  readonly pools: readonly UpstreamDispatcher[];
  /** Node-table slot of each node of the cluster, in the ring's member order. */
  readonly members: Int32Array;
  /** Node-table index of the cluster. */
  readonly cluster: number;
  /** The cluster's selection walk and predicates, shared by its routes. */
  readonly selector: ClusterSelector;
  /** Per node of the cluster, its zone's slot in the zone-crossing counts when it is not the gateway's zone, else -1; null without GATEWAY_ZONE. */
  readonly crossZone: Int16Array | null;
  /** Zone affinity is on: a node in another zone took the request only because its own zone fell back. */
  readonly zoneAffine: boolean;
  /** Each node's id, in the cluster's node order (logs and spans name the node). */
  readonly nodeIds: readonly string[];
  /** Each node's host and port, in the same order (spans name where the node is). */
  readonly nodePeers: readonly NodePeer[];
  /** The route's slot in the per-route metrics. */
  readonly metricSlot: number;
  /** The cluster's cache header, if it measures cache locality; its hit prefix in upper case. */
  readonly cacheHeader: { readonly name: RawHeaderNames; readonly hit: string } | null;
  /** The route's retries; null when it makes none (max 0). */
  readonly retries: RetryPolicy | null;
  /** The cluster's retry budget (Envoy's): percent of its requests in flight, and the floor. */
  readonly retryBudget: { readonly percent: number; readonly minRetries: number };
  /** The cluster's nodes have circuit breakers: their endings are counted for them. */
  readonly breakers: boolean;
  /** Tries are timed (dispatch and answer head): for the breakers, or the access log. */
  readonly timed: boolean;
  /** The route's Idempotency-Key rule for writes; null: none. */
  readonly idempotency: 'required' | 'optional' | null;
  /** Answer headers the gateway writes itself on this route (RateLimit-*, Idempotent-Replayed): a node's are dropped. Null: none. */
  readonly ownAnswerHeaders: RawHeaderNames | null;
  /**
   * The route label's 64-bit hash, halves as the tenant keyer gives them (0 without a rate limit):
   * the local rate limit's key of the whole route, and with a tenant's own hash mixed in, of one
   * tenant on it (phases/limit.ts), so no key is hashed per request.
   */
  readonly limitKeyLo: number;
  readonly limitKeyHi: number;
}

export interface NodePeer {
  readonly address: string;
  readonly port: number;
}

/** What plans are compiled against: this thread's pools and counters, and the shared tables. */
export interface PlanContext {
  /** Per cluster, its nodes' pools in node order (UpstreamPools.forConfig). */
  readonly pools: ReadonlyMap<string, readonly UpstreamDispatcher[]>;
  readonly nodes: NodeTable;
  readonly numbering: NodeNumbering;
  readonly rings: ReadonlyMap<string, SharedRing>;
  readonly recorder: RequestRecorder;
  readonly crossings: ZoneCrossings;
  readonly breakers: BreakerTable;
  /** The access log is on: every try is timed for its upstreamMs (spans need no try times). */
  readonly accessLogged: boolean;
  /** Hashes the labels of rate-limited routes. */
  readonly keyer: TenantKeyer;
}

/** One plan per config route, in route order (a route's index is its plan's). */
export function compileRoutePlans(config: GatewayConfig, table: RouteTable, { pools, nodes, numbering, rings, recorder, crossings, breakers, accessLogged, keyer }: PlanContext): RoutePlan[] {
  const gatewayZone = config.settings.zone;
  const adaptive = config.settings.routingMode === 'adaptive';
  const selectors = new Map<string, ClusterSelector>();
  const crossZones = new Map<string, Int16Array | null>();
  const cacheHeaders = new Map<string, RoutePlan['cacheHeader']>();
  // Per cluster, shared by its routes: per route they would cost routes × nodes (a URL parse each).
  const clusterNodes = new Map<string, { members: Int32Array; nodeIds: readonly string[]; nodePeers: readonly NodePeer[] }>();
  for (const [name, cluster] of Object.entries(config.clusters)) {
    const members = numbering.members[name]!;
    clusterNodes.set(name, {
      members: Int32Array.from(members),
      nodeIds: cluster.nodes.map((node) => node.id),
      nodePeers: cluster.nodes.map((node) => peerOf(node.url)),
    });
    const loads = new ClusterLoads(nodes, members);
    const states = new ClusterNodeStates(nodes, members, numbering.clusters[name]!, {
      usableHealth: USABLE_HEALTH,
      connectFailuresDown: PASSIVE_DEFAULTS.connectFailuresDown,
      zoneAffinity: zoneAffinity(config.settings),
    });
    // Plain mode: every key on its ring owner, whatever the loads (but never on an unusable node).
    const bounded = adaptive ? new BoundedLoad() : null;
    // Predicates in DESIGN's order: tried already → unusable (health, zone) → circuit open →
    // saturated → over the load bound.
    const saturation = cluster.maxInFlight === undefined ? null : new SaturationLimit(cluster.maxInFlight, bounded);
    const circuits = cluster.breaker.enabled ? new CircuitGate(new ClusterBreakers(breakers, members), saturation ?? bounded) : null;
    const avoided = new AvoidedNodes(new UsableNodes(states, circuits ?? saturation ?? bounded), cluster.nodes.length);
    selectors.set(name, new ClusterSelector(cluster.nodes.length, loads, { avoided, bounded, saturation, circuits }));
    crossZones.set(
      name,
      gatewayZone === undefined ? null : Int16Array.from(cluster.nodes, (node) => (node.az === gatewayZone ? -1 : crossings.slot(node.az))),
    );
    const cache = cluster.cacheHeader;
    cacheHeaders.set(name, cache === undefined ? null : { name: new RawHeaderNames([cache.name]), hit: cache.hit.toUpperCase() });
  }
  const totalMs = config.settings.upstreamTimeoutMs;
  return table.routes.map((route, i) => {
    const limited = route.rateLimit !== null;
    // The keyer holds one hash at a time: its halves are read as soon as it is made.
    let limitKeyLo = 0;
    let limitKeyHi = 0;
    if (limited) {
      keyer.hash(route.label);
      limitKeyLo = keyer.lo;
      limitKeyHi = keyer.hi;
    }
    return {
      route,
      ring: rings.get(route.cluster)!,
      pools: pools.get(route.cluster)!,
      members: clusterNodes.get(route.cluster)!.members,
      cluster: numbering.clusters[route.cluster]!,
      selector: selectors.get(route.cluster)!,
      crossZone: crossZones.get(route.cluster)!,
      zoneAffine: zoneAffinity(config.settings),
      nodeIds: clusterNodes.get(route.cluster)!.nodeIds,
      nodePeers: clusterNodes.get(route.cluster)!.nodePeers,
      cacheHeader: cacheHeaders.get(route.cluster)!,
      metricSlot: recorder.slot(route.label),
      retries: config.routes[i]!.retries.max === 0 ? null : new RetryPolicy(config.routes[i]!.retries, totalMs),
      retryBudget: config.clusters[route.cluster]!.retryBudget,
      breakers: config.clusters[route.cluster]!.breaker.enabled,
      timed: accessLogged || config.clusters[route.cluster]!.breaker.enabled,
      idempotency: config.routes[i]!.idempotency ?? null,
      ownAnswerHeaders: ownAnswerHeaders(limited, config.routes[i]!.idempotency !== undefined),
      limitKeyLo,
      limitKeyHi,
    };
  });
}

const RATE_LIMIT_HEADERS = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'];
const LIMITED_AND_KEYED = new RawHeaderNames([...RATE_LIMIT_HEADERS, 'idempotent-replayed']);
const LIMITED = new RawHeaderNames(RATE_LIMIT_HEADERS);
const KEYED = new RawHeaderNames(['idempotent-replayed']);

/** The answer headers a route's gateway-side features write: a node's own beside them would contradict them. */
function ownAnswerHeaders(limited: boolean, keyed: boolean): RawHeaderNames | null {
  if (limited) return keyed ? LIMITED_AND_KEYED : LIMITED;
  return keyed ? KEYED : null;
}

/** A node origin's host (an IPv6 address without brackets) and port (the scheme's when none is written). */
function peerOf(origin: string): NodePeer {
  const url = new URL(origin);
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { address: unbracketed(url.hostname), port };
}
