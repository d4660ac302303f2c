import type { MetricFamily } from '../thread-protocol.js';

/**
 * Every metric the gateway exports, sorted by name: ringgate_<subsystem>_<what>_<unit|total>.
 * Labels are bounded by the config (routes, clusters, threads, error codes), never by traffic;
 * the one traffic-made label, `tenant`, names only the GATEWAY_METRICS_TOP_TENANTS highest scores.
 */
export const METRICS = {
  ringgate_breaker_score: {
    type: 'gauge',
    help: "Circuit-breaker score of each node: 0.6 × failure rate + 0.4 × p99 / reference p99 (opens at the cluster's threshold; 0 while too few answers)",
    labels: ['cluster', 'node'],
  },
  ringgate_breaker_state: {
    type: 'gauge',
    help: 'Circuit-breaker state of each node: 0 closed, 1 open, 2 half-open (nodes of clusters with breakers)',
    labels: ['cluster', 'node'],
  },
  ringgate_breaker_transitions_total: {
    type: 'counter',
    help: 'Circuit-breaker state changes, by from and to state (closed, open, half_open)',
    labels: ['from', 'to'],
  },
  ringgate_config_reloads_total: {
    type: 'counter',
    help: 'Config reloads (SIGHUP, POST /v1/reload), by result: ok, or failed (the running config stays)',
    labels: ['result'],
  },
  ringgate_http_errors_total: {
    type: 'counter',
    help: 'Error answers the gateway produced itself, by stable error code',
    labels: ['code'],
  },
  ringgate_http_request_duration_seconds: {
    type: 'histogram',
    help: 'Time from request head to the end of the response, by route',
    labels: ['route'],
  },
  ringgate_http_requests_total: {
    type: 'counter',
    help: 'Requests answered, by route and status class',
    labels: ['route', 'status_class'],
  },
  ringgate_idempotency_evictions_total: {
    type: 'counter',
    help: 'Completed Idempotency-Keys given up, before their TTL, to make room for new ones (GATEWAY_IDEMPOTENCY_ENTRIES)',
    labels: [],
  },
  ringgate_idempotency_replays_total: {
    type: 'counter',
    help: 'Duplicate writes answered with the stored response of their Idempotency-Key (the node not called)',
    labels: [],
  },
  ringgate_multiplex_arena_bytes: {
    type: 'gauge',
    help: 'Bytes of answers held in the shared response arena for requests of other threads to read',
    labels: [],
  },
  ringgate_multiplex_batch_size: {
    type: 'histogram',
    help: "Requests each multiplexed call answered (its leader and the identical reads that joined it), by route: the seeds' gateway_request_batch_size",
    labels: ['route'],
  },
  ringgate_multiplex_cross_thread_joins_total: {
    type: 'counter',
    help: "Reads that waited for another acceptor thread's identical call",
    labels: [],
  },
  ringgate_multiplex_fallbacks_total: {
    type: 'counter',
    help: 'Reads that went to the node on their own though multiplexed, by reason (not_shareable: Set-Cookie or Cache-Control private/no-store; leader_left; leader_refused: its head could not be written (ERR_BAD_HEADER); not_shared: another thread\'s answer too large or not shareable; leader_gone: its thread died or got stuck; table_full)',
    labels: ['reason'],
  },
  ringgate_multiplexed_requests_total: {
    type: 'counter',
    help: 'Reads that joined an identical one in flight instead of calling the node, by route',
    labels: ['route'],
  },
  ringgate_node_check_passing: {
    type: 'gauge',
    help: "1 while a node passes its cluster's active health checks, 0 while it fails them (only nodes with checks)",
    labels: ['cluster', 'node'],
  },
  ringgate_node_health: {
    type: 'gauge',
    help: 'Health score of each node, 0 to 1 (below 0.3 it takes no requests and leaves the ring)',
    labels: ['cluster', 'node'],
  },
  ringgate_node_in_flight: {
    type: 'gauge',
    help: 'Requests given to each node and not finished yet, all threads together',
    labels: ['cluster', 'node'],
  },
  ringgate_node_points: {
    type: 'gauge',
    help: 'Points each node owns on the ring acceptors read now (0: off the ring)',
    labels: ['cluster', 'node'],
  },
  ringgate_node_requests_total: {
    type: 'counter',
    help: 'Requests given to each node, all threads together',
    labels: ['cluster', 'node'],
  },
  ringgate_node_saturation: {
    type: 'gauge',
    help: "In-flight requests of each node over its cluster's maxInFlight, all threads together (nodes of clusters with a limit)",
    labels: ['cluster', 'node'],
  },
  ringgate_node_weight: {
    type: 'gauge',
    help: 'Ring weight of each node: configured weight × (health, cache locality and zone cost composite) × slow start',
    labels: ['cluster', 'node'],
  },
  ringgate_panic_activations_total: {
    type: 'counter',
    help: 'Times a cluster entered panic mode (too few healthy nodes: routing over all of them)',
    labels: [],
  },
  ringgate_rate_limit_evictions_total: {
    type: 'counter',
    help: 'Rate-limit keys given up, least recently used first, to count new ones (GATEWAY_RATE_LIMIT_KEYS): their counts start over if they come back',
    labels: [],
  },
  ringgate_rate_limited_total: {
    type: 'counter',
    help: "Requests refused by their route's rate limit (429 ERR_RATE_LIMITED), by route",
    labels: ['route'],
  },
  ringgate_rebalance_events_total: {
    type: 'counter',
    help: "Changes of any tenant's shard factor (each one remaps that tenant's traffic only)",
    labels: [],
  },
  ringgate_redis_errors_total: {
    type: 'counter',
    help: 'Requests (or, for tenant_load, publications) a Redis call failed or timed out for, by use (rate_limit, idempotency, tenant_load): each went on without Redis (fail open)',
    labels: ['use'],
  },
  ringgate_request_header_bytes_total: {
    type: 'counter',
    help: 'Request head bytes of routes with header compaction (forwardHeaders): as the client sent them, and as forwarded to the node',
    labels: ['route', 'direction'],
  },
  ringgate_retries_in_flight: {
    type: 'gauge',
    help: "Retries decided and not ended (waiting out their backoff, or sent), all threads together: what the cluster's retry budget bounds",
    labels: ['cluster'],
  },
  ringgate_retries_total: {
    type: 'counter',
    help: 'Requests tried again on another node, by cluster and reason (refused, reset, timeout, 502, 503, 504)',
    labels: ['cluster', 'reason'],
  },
  ringgate_retry_budget_exhausted_total: {
    type: 'counter',
    help: "Retries not made because the cluster's retry budget was spent (the failure was answered as it was)",
    labels: ['cluster'],
  },
  ringgate_ring_points: {
    type: 'gauge',
    help: 'Points on the consistent-hash ring of each cluster',
    labels: ['cluster'],
  },
  ringgate_ring_rebuilds_total: {
    type: 'counter',
    help: 'Rings republished because a node joined, left, or moved past the points threshold',
    labels: [],
  },
  ringgate_routing_mode: {
    type: 'gauge',
    help: 'How requests are routed: 1 for the current mode (ring; least-connections while the control plane is stale)',
    labels: ['mode'],
  },
  ringgate_tenant_evictions_total: {
    type: 'counter',
    help: 'Tenants evicted from the shared tenant table (idle past GATEWAY_TENANT_TTL_MS, or least recently seen beyond GATEWAY_MAX_TENANTS)',
    labels: [],
  },
  ringgate_tenant_load_score: {
    type: 'gauge',
    help: 'Smoothed load score (ms) of the GATEWAY_METRICS_TOP_TENANTS highest-scoring tenants',
    labels: ['tenant'],
  },
  ringgate_tenant_shard_factor: {
    type: 'gauge',
    help: 'Nodes each of the GATEWAY_METRICS_TOP_TENANTS highest-scoring tenants is spread over',
    labels: ['tenant'],
  },
  ringgate_tenants_live: {
    type: 'gauge',
    help: 'Tenants in the shared tenant table at the last scoring window',
    labels: [],
  },
  ringgate_thread_requests_total: {
    type: 'counter',
    help: 'Requests answered by each acceptor thread',
    labels: ['thread'],
  },
  ringgate_thread_restarts_total: {
    type: 'counter',
    help: 'Acceptor threads restarted after they died',
    labels: [],
  },
  ringgate_threads_running: {
    type: 'gauge',
    help: 'Acceptor threads currently listening',
    labels: [],
  },
  ringgate_upstream_calls_saved_total: {
    type: 'counter',
    help: 'Calls to nodes that multiplexing saved: reads answered through an identical one, by route',
    labels: ['route'],
  },
  ringgate_zone_crossing_bytes_total: {
    type: 'counter',
    help: "Request and response body bytes of requests sent from the gateway's zone to a node in another",
    labels: ['from', 'to'],
  },
  ringgate_zone_crossings_total: {
    type: 'counter',
    help: "Requests sent from the gateway's zone (GATEWAY_ZONE) to a node in another zone",
    labels: ['from', 'to'],
  },
} as const;

export type MetricName = keyof typeof METRICS;

/** An empty family of one of the gateway's metrics in prom-client's JSON shape, summed across threads. */
export function family(name: MetricName): MetricFamily {
  const def = METRICS[name];
  return { name, help: def.help, type: def.type, values: [], aggregator: 'sum' };
}

/** Latency buckets in seconds: sub-millisecond resolution where a proxy's own cost lives. */
export const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Route label for requests that matched no route, and for the gateway's own health path. */
export const NO_ROUTE_LABEL = '(none)';
export const HEALTH_ROUTE_LABEL = '(healthz)';
