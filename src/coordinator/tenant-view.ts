import type { WindowEntry } from './tenant-history.js';

/** A tenant as GET /v1/tenants, the dashboard and the metrics see it (tenant-tracker.ts keeps it). */
export interface TenantView {
  readonly tenant: string;
  /** Requests in the last scoring window: those its nodes answered, and those the gateway answered itself (refused, replayed, shared). */
  readonly windowRequests: number;
  readonly totalRequests: number;
  /** 5xx answers of its nodes (the gateway's own 503s are left out, as from the score). */
  readonly windowErrors5xx: number;
  readonly totalErrors5xx: number;
  /** Average latency of the requests its nodes answered over the last window, ms (0 when none). */
  readonly windowAvgLatencyMs: number;
  /** The same since the tenant was first seen, ms. */
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
