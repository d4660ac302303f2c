import type { Settings } from '../config/schema.js';
import { clusterPanic, readNodeCounters, zoneFallback, type NodeCounters, type NodeTable } from '../shm/node-table.js';
import type { ControlPlane } from './control-plane.js';
import type { NodeMonitor } from './node-monitor.js';
import type { NodeStateView } from './node-state.js';
import type { RebalanceEvent } from './recent-events.js';
import type { TenantTracker } from './tenant-tracker.js';
import type { TenantView } from './tenant-view.js';

/** Tenants the dashboard shows: the highest scores, as a screen holds them. */
export const DASHBOARD_TENANTS = 10;

/** A node as GET /v1/nodes shows it (gateway.ts adds its in-flight count and the breaker to the monitor's view). */
export interface NodeRow extends NodeStateView {
  readonly inFlight: number;
  readonly breaker: { readonly state: string; readonly score: number; readonly p99Ms: number | null } | null;
}

/** A tenant as GET /tenants shows it: with its candidate nodes on each tenant-keyed cluster. */
export interface TenantRow extends TenantView {
  readonly candidates: Record<string, string[]>;
}

export interface DashboardNode extends NodeRow {
  /** Its share of the cluster's ring points, 0 to 1. */
  readonly share: number;
  /** Answers that were 5xx, timeouts or malformed, and connections refused or reset, ever (read as the shared words hold them: wrapping past 2^32, unlike `requests`). */
  readonly errors: number;
}

export interface DashboardCluster {
  readonly name: string;
  /** Too few healthy nodes: requests go to all of them. */
  readonly panic: boolean;
  /** Its local nodes too unhealthy: other zones serve. */
  readonly zoneFallback: boolean;
  readonly points: number;
  readonly inFlight: number;
  /** Sums of its nodes' running totals: a reader's rate is the difference between two reads over `at`. */
  readonly requests: number;
  readonly errors: number;
  readonly nodes: readonly DashboardNode[];
}

/** GET /v1/dashboard: everything the page shows, in one read. */
export interface DashboardState {
  /** When this was read, epoch ms. */
  readonly at: number;
  /** GATEWAY_ROUTING_MODE, and how clusters select now: `least-connections` while the control plane is stale. */
  readonly routing: { readonly mode: Settings['routingMode']; readonly selection: ControlPlane['mode'] };
  readonly hotScore: number;
  readonly windowMs: number;
  /** Scoring windows closed so far. */
  readonly window: number;
  readonly clusters: readonly DashboardCluster[];
  /** The DASHBOARD_TENANTS highest scores. */
  readonly tenants: readonly TenantRow[];
  /** Shard factor changes and ring republishes: counts so far, and the last ones kept, newest first. */
  readonly rebalances: { readonly shardChanges: number; readonly ringRebuilds: number; readonly recent: readonly RebalanceEvent[] };
}

/** What the dashboard reads: the same sources as GET /v1/nodes, GET /tenants and the metrics. */
export interface DashboardSources {
  readonly settings: Pick<Settings, 'routingMode' | 'hotScore' | 'scoreWindowMs'>;
  readonly nodeTable: NodeTable;
  readonly controlPlane: Pick<ControlPlane, 'mode'>;
  readonly tenants: Pick<TenantTracker, 'windows' | 'rebalances' | 'recentRebalances'>;
  readonly nodeMonitor: Pick<NodeMonitor, 'rebuilds' | 'recentRebuilds'>;
  nodes(): readonly NodeRow[];
  tenantRows(top: number): readonly TenantRow[];
  /** Every cluster of the running config, in its order, by its slot in the node table (its panic and zone-fallback flags). */
  clusterSlots(): Readonly<Record<string, number>>;
  now(): number;
}

/**
 * One read of the dashboard's state: nodes grouped by cluster, in the order the config lists them;
 * a cluster without nodes too (one waiting for pushes, or one a push emptied: its routes answer 503).
 */
export function readDashboard(sources: DashboardSources): DashboardState {
  const { settings, nodeTable } = sources;
  const counters: NodeCounters = { requests: 0, failures: 0, connectFailures: 0, connectStreak: 0, cacheLookups: 0, cacheHits: 0 };
  const byCluster = new Map<string, NodeRow[]>();
  for (const node of sources.nodes()) {
    const rows = byCluster.get(node.cluster);
    if (rows === undefined) byCluster.set(node.cluster, [node]);
    else rows.push(node);
  }
  const clusters = Object.entries(sources.clusterSlots()).map(([name, slot]): DashboardCluster => {
    const rows = byCluster.get(name) ?? [];
    const points = rows.reduce((sum, node) => sum + node.points, 0);
    const nodes = rows.map((node): DashboardNode => {
      readNodeCounters(nodeTable, node.index, counters);
      return { ...node, share: points === 0 ? 0 : node.points / points, errors: counters.failures + counters.connectFailures };
    });
    return {
      name,
      panic: clusterPanic(nodeTable, slot),
      zoneFallback: zoneFallback(nodeTable, slot),
      points,
      inFlight: nodes.reduce((sum, node) => sum + node.inFlight, 0),
      requests: nodes.reduce((sum, node) => sum + node.requests, 0),
      errors: nodes.reduce((sum, node) => sum + node.errors, 0),
      nodes,
    };
  });
  const recent = [...sources.tenants.recentRebalances(), ...sources.nodeMonitor.recentRebuilds()].sort((a, b) => b.at - a.at);
  return {
    at: sources.now(),
    routing: { mode: settings.routingMode, selection: sources.controlPlane.mode },
    hotScore: settings.hotScore,
    windowMs: settings.scoreWindowMs,
    window: sources.tenants.windows,
    clusters,
    tenants: sources.tenantRows(DASHBOARD_TENANTS),
    rebalances: { shardChanges: sources.tenants.rebalances, ringRebuilds: sources.nodeMonitor.rebuilds, recent },
  };
}
