/**
 * Why a request went to the node it went to: what the access log's `reason` and a span's
 * routing.decision.reason say. Set by the select phase from the walk's outcome (a small int, no
 * allocation), and overridden by a retry or a multiplexed join.
 */
export const enum RoutingReason {
  /** No node was chosen (answered by the gateway before or at selection). */
  None = 0,
  /** The key's ring owner (shard factor 1). */
  RingOwner = 1,
  /** One of the first k distinct nodes from the tenant's point (a hot tenant's shard factor k > 1). */
  ShardK = 2,
  /** Past the first k: those were unusable (health, open circuit, saturated), the next clockwise took it. */
  RingNext = 3,
  /** Past the first k: those were over the cluster's load bound. */
  BoundedLoadSpill = 4,
  /** In another zone: the gateway's own zone is too unhealthy (zone affinity fallback). */
  ZoneFallback = 5,
  /** The control plane is stale: least connections, whatever the ring says. */
  LeastConnFallback = 6,
  /** A retry, on a node the request had not tried. */
  Retry = 7,
  /** Joined an identical read in flight: the answer came from another request's call. */
  Multiplexed = 8,
}

/** The names logs and spans carry, by RoutingReason. */
export const ROUTING_REASON_NAMES: readonly string[] = [
  'none',
  'ring_owner',
  'shard_k',
  'ring_next',
  'bounded_load_spill',
  'zone_fallback',
  'least_conn_fallback',
  'retry',
  'multiplexed',
];

/** How a candidate walk ended (CandidateWalk.outcome). */
export const enum WalkOutcome {
  /** Among the first k distinct nodes. */
  WithinK = 0,
  /** Past the first k, which were rejected outright. */
  PastRejected = 1,
  /** Past the first k, some over the load bound (or the least loaded of the overloaded). */
  Spilled = 2,
}

/** The reason of a ring walk's choice: `k` the shard factor it walked with. */
export function walkReason(outcome: WalkOutcome, k: number): RoutingReason {
  if (outcome === WalkOutcome.WithinK) return k > 1 ? RoutingReason.ShardK : RoutingReason.RingOwner;
  return outcome === WalkOutcome.Spilled ? RoutingReason.BoundedLoadSpill : RoutingReason.RingNext;
}
