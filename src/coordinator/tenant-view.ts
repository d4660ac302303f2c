import type { WindowEntry } from './tenant-history.js';

/** A tenant as GET /v1/tenants, the dashboard and the metrics see it (tenant-tracker.ts keeps it). */
export interface TenantView {
  readonly tenant: string;
  /** Requests in the last scoring window. */
  readonly windowRequests: number;
  readonly totalRequests: number;
  readonly windowErrors5xx: number;
  readonly totalErrors5xx: number;
  /** Average latency over the last window, ms (0 when it had no requests). */
  readonly windowAvgLatencyMs: number;
  /** Average latency since the tenant was first seen, ms. */
  readonly avgLatencyMs: number;
  readonly lastSeenMsAgo: number;
  /** Smoothed load score (routing/tenant-score.ts); null before the first window with requests. */
  readonly score: number | null;
  /** Shard factor: how many nodes the tenant's requests are spread over. */
  readonly k: number;
  /** Redis mode: requests in the last window on every instance together, as scored. */
  readonly fleetWindowRequests?: number;
}

export interface TenantDetail extends TenantView {
  /** The tenant's last HISTORY_WINDOWS windows, oldest first. */
  readonly history: readonly WindowEntry[];
}

export type TenantOrder = 'score' | 'requests';
