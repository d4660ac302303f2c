import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { registerProcessMetrics } from './runtime-metrics.js';
import type { MetricsSnapshot } from '../thread-protocol.js';
import { METRICS } from './definitions.js';
import type { ThreadSnapshot } from './retired-threads.js';
import { sumRouteCounts } from './route-counts.js';
import { routeText } from './route-text.js';

export interface NodeReading {
  cluster: string;
  node: string;
  inFlight: number;
  requests: number;
  health: number;
  weight: number;
  points: number;
  activeCheck: 'passing' | 'failing' | 'off';
  maxInFlight: number | null;
}

export interface BreakerReading {
  cluster: string;
  node: string;
  /** 0 closed, 1 open, 2 half-open. */
  state: number;
  score: number;
}

export interface RetryReading {
  cluster: string;
  /** Its slot in the retry table: the words its counts are read from. */
  slot: number;
  inFlight: number;
  exhausted: number;
  byReason: readonly { reason: string; retries: number }[];
}

/** The coordinator's own metrics (prom-client), merged at scrape time with every thread's snapshot. */
export interface CoordinatorReadings {
  breakers(): BreakerReading[];
  breakerTransitions(): ReadonlyMap<string, number>;
  idempotencyEvictions(): number;
  rateLimitEvictions(): number;
  multiplexShared(): { joins: number; bytes: number };
  retries(): RetryReading[];
  runningThreads(): number;
  ringPoints(): { cluster: string; points: number }[];
  nodes(): NodeReading[];
  ringRebuilds(): number;
  reloads(): { ok: number; failed: number };
  routingMode(): 'ring' | 'least-connections';
  panicActivations(): number;
  liveTenants(): number;
  tenantEvictions(): number;
  rebalanceEvents(): number;
  /** The tenants to export score and shard factor of (already cut to the configured top N). */
  topTenants(): { tenant: string; score: number; k: number }[];
}

export class CoordinatorMetrics {
  readonly registry = new Registry();
  readonly threadRestarts: Counter;
  /** The coordinator's own failed Redis calls; the threads count theirs under the same name, and a scrape sums both. */
  readonly redisErrors: Counter;
  readonly #readings: CoordinatorReadings;
  /** The nodes' readings of the scrape under way: seven per-node metrics read one snapshot. */
  #nodes: NodeReading[] = [];

  /** Gauges are read from the coordinator's state at scrape time, so they cannot go stale. */
  constructor(readings: CoordinatorReadings) {
    this.#readings = readings;
    const nodes = (): NodeReading[] => this.#nodes;
    // Labels as definitions.ts lists them (the README's table is checked against it): never typed twice.
    const def = (name: keyof typeof METRICS) => ({ name, help: METRICS[name].help, labelNames: METRICS[name].labels, registers: [this.registry] });
    // A running total kept elsewhere (shared memory, the tracker), exported as it is at scrape time.
    const total = (name: keyof typeof METRICS, read: () => number): void => {
      new Counter({
        ...def(name),
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    const current = (name: keyof typeof METRICS, read: () => number): void => {
      new Gauge({
        ...def(name),
        collect() {
          this.set(read());
        },
      });
    };
    registerProcessMetrics(this.registry);
    this.threadRestarts = new Counter(def('ringgate_thread_restarts_total'));
    this.redisErrors = new Counter(def('ringgate_redis_errors_total'));
    const nodeGauge = (
      name: 'ringgate_node_in_flight' | 'ringgate_node_health' | 'ringgate_node_weight' | 'ringgate_node_points',
      field: 'inFlight' | 'health' | 'weight' | 'points',
    ): void => {
      new Gauge({
        ...def(name),
        collect() {
          // Reset first: a node a reload removed must not linger.
          this.reset();
          for (const node of nodes()) this.set({ cluster: node.cluster, node: node.node }, node[field]);
        },
      });
    };
    nodeGauge('ringgate_node_in_flight', 'inFlight');
    nodeGauge('ringgate_node_health', 'health');
    nodeGauge('ringgate_node_weight', 'weight');
    nodeGauge('ringgate_node_points', 'points');
    new Gauge({
      ...def('ringgate_node_saturation'),
      collect() {
        this.reset();
        for (const { cluster, node, inFlight, maxInFlight } of nodes()) if (maxInFlight !== null) this.set({ cluster, node }, inFlight / maxInFlight);
      },
    });
    new Gauge({
      ...def('ringgate_node_check_passing'),
      collect() {
        this.reset();
        for (const { cluster, node, activeCheck } of nodes()) if (activeCheck !== 'off') this.set({ cluster, node }, activeCheck === 'passing' ? 1 : 0);
      },
    });
    const breakerGauge = (name: 'ringgate_breaker_state' | 'ringgate_breaker_score', field: 'state' | 'score'): void => {
      new Gauge({
        ...def(name),
        collect() {
          this.reset();
          for (const reading of readings.breakers()) this.set({ cluster: reading.cluster, node: reading.node }, reading[field]);
        },
      });
    };
    breakerGauge('ringgate_breaker_state', 'state');
    breakerGauge('ringgate_breaker_score', 'score');
    // Counters kept in shared memory or by the tracker, exported as their running totals at scrape time.
    new Counter({
      ...def('ringgate_breaker_transitions_total'),
      collect() {
        this.reset();
        for (const [key, count] of readings.breakerTransitions()) {
          const [from, to] = key.split('>') as [string, string];
          this.inc({ from, to }, count);
        }
      },
    });
    total('ringgate_multiplex_cross_thread_joins_total', () => readings.multiplexShared().joins);
    current('ringgate_multiplex_arena_bytes', () => readings.multiplexShared().bytes);
    total('ringgate_idempotency_evictions_total', () => readings.idempotencyEvictions());
    total('ringgate_rate_limit_evictions_total', () => readings.rateLimitEvictions());
    new Gauge({
      ...def('ringgate_retries_in_flight'),
      collect() {
        this.reset();
        for (const { cluster, inFlight } of readings.retries()) this.set({ cluster }, inFlight);
      },
    });
    new Counter({
      ...def('ringgate_retries_total'),
      collect() {
        this.reset();
        for (const { cluster, byReason } of readings.retries()) for (const { reason, retries } of byReason) if (retries > 0) this.inc({ cluster, reason }, retries);
      },
    });
    new Counter({
      ...def('ringgate_retry_budget_exhausted_total'),
      collect() {
        this.reset();
        for (const { cluster, exhausted } of readings.retries()) this.inc({ cluster }, exhausted);
      },
    });
    new Counter({
      ...def('ringgate_config_reloads_total'),
      collect() {
        this.reset();
        const { ok, failed } = readings.reloads();
        this.inc({ result: 'ok' }, ok);
        this.inc({ result: 'failed' }, failed);
      },
    });
    total('ringgate_ring_rebuilds_total', () => readings.ringRebuilds());
    new Gauge({
      ...def('ringgate_routing_mode'),
      collect() {
        const mode = readings.routingMode();
        for (const each of ['ring', 'least-connections'] as const) this.set({ mode: each }, each === mode ? 1 : 0);
      },
    });
    total('ringgate_panic_activations_total', () => readings.panicActivations());
    new Counter({
      ...def('ringgate_node_requests_total'),
      collect() {
        this.reset();
        for (const { cluster, node, requests } of nodes()) this.inc({ cluster, node }, requests);
      },
    });
    total('ringgate_rebalance_events_total', () => readings.rebalanceEvents());
    // Reset first: a tenant that left the top N must not linger.
    new Gauge({
      ...def('ringgate_tenant_load_score'),
      collect() {
        this.reset();
        for (const { tenant, score } of readings.topTenants()) this.set({ tenant }, score);
      },
    });
    new Gauge({
      ...def('ringgate_tenant_shard_factor'),
      collect() {
        this.reset();
        for (const { tenant, k } of readings.topTenants()) this.set({ tenant }, k);
      },
    });
    new Gauge({
      ...def('ringgate_ring_points'),
      collect() {
        // A cluster a reload removed must not linger.
        this.reset();
        for (const { cluster, points } of readings.ringPoints()) this.set({ cluster }, points);
      },
    });
    current('ringgate_tenants_live', () => readings.liveTenants());
    total('ringgate_tenant_evictions_total', () => readings.tenantEvictions());
    current('ringgate_threads_running', () => readings.runningThreads());
  }

  /** Prometheus text of the coordinator plus every thread (same-labelled series are summed). */
  async render(threads: readonly ThreadSnapshot[]): Promise<{ contentType: string; body: string }> {
    this.#nodes = this.#readings.nodes();
    const own = ((await this.registry.getMetricsAsJSON()) as unknown as MetricsSnapshot).map((family) =>
      // prom-client marks process_start_time_seconds "omit" (per-process workers would disagree);
      // aggregating omits it even from its one source here, the process itself.
      family.aggregator === 'omit' ? { ...family, aggregator: 'first' } : family,
    );
    const merged = AggregatorRegistry.aggregate([own, ...threads.map((thread) => thread.metrics)]);
    const body = await merged.metrics();
    const routes = threads.flatMap((thread) => (thread.routes === null ? [] : [thread.routes]));
    // Families apart by a blank line, as prom-client writes them.
    return { contentType: merged.contentType, body: routes.length === 0 ? body : `${body}\n${routeText(sumRouteCounts(routes))}\n` };
  }
}
