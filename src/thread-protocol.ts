import type { GatewayConfig } from './config/load.js';
import type { ErrorCode } from './errors.js';
import type { RouteCounts } from './metrics/route-counts.js';
import type { NodeNumbering } from './shm/node-numbering.js';
import type { NameTable } from './upstream/node-names.js';

/** What an acceptor thread starts with (its workerData). Plain data: it is structured-cloned. */
export interface AcceptorInit {
  readonly threadIndex: number;
  readonly config: GatewayConfig;
  /** Port to listen on: the configured one, or the one the first acceptor got when configured 0. */
  readonly port: number;
  /** One shared ring per cluster, by cluster name. */
  readonly rings: Readonly<Record<string, SharedArrayBuffer>>;
  /** The shared tenant table (shm/tenant-table.ts). */
  readonly tenants: SharedArrayBuffer;
  /** The shared node table (shm/node-table.ts). */
  readonly nodes: SharedArrayBuffer;
  /** The shared breaker table (shm/breaker-table.ts). */
  readonly breakers: SharedArrayBuffer;
  /** The shared retry-budget table (shm/retry-table.ts). */
  readonly retries: SharedArrayBuffer;
  /** The shared idempotency-key table (shm/idempotency-table.ts). */
  readonly idempotency: SharedArrayBuffer;
  /** The shared rate-limit counters (shm/limiter-table.ts). */
  readonly limiter: SharedArrayBuffer;
  /** The shared in-flight table of multiplexed calls (shm/inflight-table.ts). */
  readonly inflight: SharedArrayBuffer;
  /** The seed of the keys of the tenant, limiter and in-flight tables (hash.ts newTableKeySeed). */
  readonly keySeed: bigint;
  /** Which node-table slot each cluster and node of `config` has. */
  readonly numbering: NodeNumbering;
  /** The topology epoch of `config` (coordinator/topology.ts). */
  readonly epoch: number;
  /** The addresses the coordinator last resolved each node host name to. */
  readonly names: NameTable;
}

/** One metric family in prom-client's getMetricsAsJSON() shape, which AggregatorRegistry.aggregate merges. */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  /** How AggregatorRegistry merges same-labelled series: 'sum' for the gateway's own; Node's runtime metrics bring others. */
  aggregator: 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

export type MetricsSnapshot = MetricFamily[];

/** Coordinator → acceptor. */
export type CoordinatorMessage =
  | { readonly type: 'drain'; readonly deadlineMs: number }
  /** A reloaded config: its rings (new buffers for clusters whose members changed) and node slots. */
  | {
      readonly type: 'reload';
      readonly config: GatewayConfig;
      readonly rings: Readonly<Record<string, SharedArrayBuffer>>;
      readonly numbering: NodeNumbering;
      readonly epoch: number;
    }
  | { readonly type: 'collect-metrics'; readonly requestId: number }
  /** Node host names were resolved again and some moved: all of them, as they are now. */
  | { readonly type: 'names'; readonly names: NameTable };

/** Acceptor → coordinator. */
export type AcceptorMessage =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'fatal'; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'drained'; readonly abandoned: number }
  /** No request the thread began before the reload of `epoch` runs any more (node slots of removed nodes are freed by it). */
  | { readonly type: 'settled'; readonly epoch: number }
  | { readonly type: 'metrics'; readonly requestId: number; readonly metrics: MetricsSnapshot; readonly routes?: RouteCounts }
  /** The thread is about to die of an uncaught error: what it counted up to now (its runtime metrics left out). */
  | { readonly type: 'last-metrics'; readonly metrics: MetricsSnapshot; readonly routes?: RouteCounts };
