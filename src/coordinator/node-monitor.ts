import type { GatewayConfig } from '../config/load.js';
import { zoneAffinity } from '../config/zones.js';
import { LogThrottle, type Logger } from '../log.js';
import { panicMode, PASSIVE_DEFAULTS, USABLE_HEALTH } from '../resilience/node-health.js';
import { ringPoints, ringWeight } from '../routing/node-weight.js';
import type { Hash32 } from '../routing/ring.js';
import type { NodeNumbering } from '../shm/node-numbering.js';
import {
  nodeRequests,
  readNodeCounters,
  resetConnectStreak,
  setClusterPanic,
  setNodeHealth,
  setServingNodes,
  type NodeCounters,
  type NodeTable,
} from '../shm/node-table.js';
import { HealthProber, type ProbeDial } from './health-prober.js';
import { buildRoster, EMPTY_ROSTER, type NodeRoster } from './node-roster.js';
import { takeWindow, viewOf, weightInput, type Cluster, type Node, type NodePush, type NodeStateView, type NodeWindow } from './node-state.js';
import type { RingEvent } from './recent-events.js';
import { RingRepublisher } from './ring-republisher.js';
import type { ClusterRing } from './rings.js';
import { ZoneFallback } from './zone-fallback.js';

/**
 * The coordinator's owner of node state (DESIGN "Node state"): it hears active check results, reads
 * the acceptors' per-node counters once a window, scores every node's health (resilience/
 * node-health.ts), writes it where the selection predicate reads it, sets a cluster's panic mode,
 * and republishes a cluster's ring when a node joins or leaves it or its points move past the
 * hysteresis threshold (routing/ring-churn.ts), with slow start for nodes that come back.
 */
export class NodeMonitor {
  readonly #table: NodeTable;
  readonly #settings: GatewayConfig['settings'];
  /** Null without hard zone affinity. */
  readonly #zoneFallback: ZoneFallback | null;
  readonly #breakerOpen: (index: number) => boolean;
  readonly #rings: RingRepublisher;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #wallClock: () => number;
  #roster: NodeRoster = EMPTY_ROSTER;
  readonly #prober: HealthProber;
  #panicActivations = 0;
  /** A stall ends for every node's check at once: one warning for them all. */
  readonly #stallLog = new LogThrottle(1_000);

  constructor(
    config: GatewayConfig,
    numbering: NodeNumbering,
    table: NodeTable,
    rings: ReadonlyMap<string, ClusterRing>,
    hash32: Hash32,
    log: Logger,
    clock: () => number,
    probeDial: ProbeDial = { lookup: undefined, connectTimeoutMs: config.settings.upstreamConnectTimeoutMs, client: config.settings.upstreamClient },
    /** When ring republishes happened, as the dashboard shows them beside the tenants' (epoch ms); `clock` times durations. */
    wallClock: () => number = clock,
    /** Whether node `index`'s circuit breaker is open or half-open: zone fallback counts it as down. */
    breakerOpen: (index: number) => boolean = () => false,
  ) {
    this.#wallClock = wallClock;
    this.#breakerOpen = breakerOpen;
    this.#table = table;
    this.#settings = config.settings;
    this.#zoneFallback = zoneAffinity(config.settings) ? new ZoneFallback(table, config.settings, config.settings.zone!, log, breakerOpen) : null;
    this.#rings = new RingRepublisher(hash32, log);
    this.#log = log;
    this.#clock = clock;
    this.#prober = new HealthProber(
      {
        result: (node, ok) => this.recordCheck(node, ok),
        stalled: ({ url }, lateMs) => {
          const checks = this.#stallLog.count(this.#clock());
          if (checks !== null) log.warn({ node: url, lateMs: Math.round(lateMs), checks }, 'health checks timed out while the coordinator was stalled: not counted, checking again');
        },
      },
      probeDial,
    );
    this.#load(config, numbering, rings, null);
  }

  /**
   * A reloaded config: nodes that stay keep everything known of them (health, counters, slow
   * start); nodes added start their slow start now; clusters whose ring is new start from its
   * first build. Health, panic, zone fallback and the rings are settled before this returns: a
   * ring too large for the coordinator's loop is built here all the same (a reload is rare), or
   * the acceptors, told next, would route by the config's weights until a worker built it, and
   * keys would move there and back.
   */
  reconfigure(config: GatewayConfig, numbering: NodeNumbering, rings: ReadonlyMap<string, ClusterRing>): void {
    this.#load(config, numbering, rings, this.#clock());
    this.#prober.restart(this.#roster.probeTargets);
    this.settle();
  }

  /**
   * Health words, panic, zone fallback and rings as a window would leave them, now (rings built
   * here whatever their size): at start, so the threads start on rings with the nodes' weights
   * (zone costs), not the config's, and keys do not move at the first window.
   */
  settle(): void {
    for (const cluster of this.#roster.clusters) this.#refresh(cluster, true);
  }

  /** `addedAt`: when nodes new to this config were added (null at start: nodes there from the start do not ramp). */
  #load(config: GatewayConfig, numbering: NodeNumbering, rings: ReadonlyMap<string, ClusterRing>, addedAt: number | null): void {
    this.#roster = buildRoster(config, numbering, this.#table, rings, this.#roster, addedAt);
    // A cluster with no healthy local node must not wait a window for other zones to serve it.
    if (this.#zoneFallback !== null) for (const cluster of this.#roster.clusters) this.#zoneFallback.start(cluster);
  }

  /** Active checks, until stop(); windows come from tick(). */
  start(): void {
    this.#prober.start(this.#roster.probeTargets);
  }

  async stop(): Promise<void> {
    await Promise.all([this.#prober.stop(), this.#rings.close()]);
  }

  /** Node host names resolve to other addresses now: checks stop using connections to the old ones. */
  namesMoved(): void {
    this.#prober.reconnect();
  }

  get rebuilds(): number {
    return this.#rings.count;
  }

  /** The last ring republishes, oldest first. */
  recentRebuilds(): RingEvent[] {
    return this.#rings.recent();
  }

  get panicActivations(): number {
    return this.#panicActivations;
  }

  /** An active check of node `index` (node-table index) passed or failed: applied at once. */
  recordCheck(index: number, ok: boolean): void {
    const node = this.#roster.byIndex[index];
    if (node === undefined) return;
    node.health.recordCheck(ok, this.#clock());
    this.#refresh(this.#roster.clusters[node.cluster]!);
  }

  /**
   * A validated control-plane push, applied whole: pushed health and cache hit rate count while
   * fresh (`ttlMs`), zone cost until the next push changes it.
   */
  applyPush(pushes: readonly NodePush[], ttlMs: number): void {
    const now = this.#clock();
    const touched = new Set<number>();
    for (const push of pushes) {
      const node = this.#roster.byIndex[push.index]!;
      if (push.health !== undefined) node.health.push(push.health, now, ttlMs);
      if (push.cacheHitRate !== undefined) {
        node.pushedLocality = push.cacheHitRate;
        node.pushedLocalityUntil = now + ttlMs;
      }
      if (push.azCost !== undefined) node.azCost = push.azCost;
      touched.add(node.cluster);
    }
    for (const cluster of touched) this.#refresh(this.#roster.clusters[cluster]!);
  }

  /** The nodes and clusters it runs now, for the control plane to resolve a push's entries against (node-roster.ts). */
  get roster(): NodeRoster {
    return this.#roster;
  }

  /** One window: the acceptors' counters into each node's health, then health, panic and rings. */
  tick(): void {
    const now = this.#clock();
    const counters: NodeCounters = { requests: 0, failures: 0, connectFailures: 0, connectStreak: 0, cacheLookups: 0, cacheHits: 0 };
    const window: NodeWindow = { requests: 0, failures: 0, connectFailures: 0 };
    const markedDown: number[] = [];
    for (const node of this.#roster.byIndex) {
      if (node === undefined) continue;
      readNodeCounters(this.#table, node.index, counters);
      const { requests, failures, connectFailures } = takeWindow(node, counters, window);
      // Two rules taking a node out for its 5xx, on two clocks (30 s here, the breaker's half-open
      // after 5 s), would keep it out for the longer: with a breaker, failed answers are its alone.
      const errors5xx = this.#roster.judgedByBreaker.has(node.index) ? 0 : failures;
      node.health.recordWindow({ requests, errors5xx, connectFailures }, now);
      node.health.connectFailureStreak(counters.connectStreak, now);
      if (counters.connectStreak >= PASSIVE_DEFAULTS.connectFailuresDown) markedDown.push(node.index);
    }
    for (const cluster of this.#roster.clusters) this.#refresh(cluster);
    // Only now that their health (0) is written: the acceptors' streak starts over.
    for (const index of markedDown) resetConnectStreak(this.#table, index);
  }

  /** Every node's state, for GET /v1/nodes and the metrics. */
  views(): NodeStateView[] {
    const now = this.#clock();
    return this.#roster.clusters.flatMap((cluster) =>
      cluster.nodes.map((node) => viewOf(cluster, node, now, ringWeight(weightInput(node, now, cluster.panic, this.#settings), cluster.slowStart), nodeRequests(this.#table, node.index))),
    );
  }

  /** Scores → shared health words and panic flag; then the ring, if it must change (`inline`: built here, however large). */
  #refresh(cluster: Cluster, inline = false): void {
    const now = this.#clock();
    for (const node of cluster.nodes) {
      const score = node.health.score(now);
      if (score >= USABLE_HEALTH && node.score < USABLE_HEALTH) node.usableSince = now;
      node.score = score;
    }
    // What lets more nodes serve (zone fallback, panic) is written before health words that take
    // nodes out, what lets fewer serve after them: an acceptor reading in between finds a node.
    this.#zoneFallback?.start(cluster);
    const fallbackEnding = this.#zoneFallback?.over(cluster) === true ? this.#zoneFallback : null;
    const panic = panicMode(this.#eligible(cluster).map((node) => node.score), cluster.panicThreshold);
    if (panic) this.#setPanic(cluster, true);
    for (const node of cluster.nodes) setNodeHealth(this.#table, node.index, node.score);
    if (!panic) this.#setPanic(cluster, false);
    setServingNodes(this.#table, cluster.index, this.#serving(cluster));
    const wanted = cluster.nodes.map((node) => ringPoints(weightInput(node, now, cluster.panic, this.#settings), cluster.slowStart));
    const installed = this.#rings.update(cluster, wanted, this.#wallClock(), inline);
    // Other zones stop serving only once the ring has the local nodes back: until then acceptors
    // read a ring without them, and every node on it would be of another zone (ERR_RING_EMPTY).
    if (fallbackEnding !== null) void installed.then((ok) => ok && this.#endZoneFallback(fallbackEnding, cluster));
  }

  /** Panic is decided over the nodes the cluster may use now: its local ones while zone affinity holds (as Envoy decides per locality). */
  #eligible(cluster: Cluster): Node[] {
    return this.#zoneFallback?.eligible(cluster) ?? cluster.nodes;
  }

  /** The nodes the selection may give a request to now, as the acceptors' predicates judge them: the load bound's mean is over these. */
  #serving(cluster: Cluster): number {
    let serving = 0;
    for (const node of this.#eligible(cluster)) if ((cluster.panic || node.score >= USABLE_HEALTH) && !this.#breakerOpen(node.index)) serving++;
    return serving;
  }

  #setPanic(cluster: Cluster, panic: boolean): void {
    if (panic === cluster.panic) return;
    cluster.panic = panic;
    setClusterPanic(this.#table, cluster.index, panic);
    if (panic) this.#panicActivations++;
    const eligible = this.#eligible(cluster);
    this.#log.warn({ cluster: cluster.name, panic, healthy: eligible.filter((n) => n.score >= USABLE_HEALTH).length, nodes: eligible.length }, panic ? 'panic mode: too few healthy nodes, routing over all of them' : 'panic mode over');
  }

  /** Ends the zone fallback (of a cluster no reload replaced meanwhile) now that the ring with its local nodes is published; panic is then decided over them again. */
  #endZoneFallback(fallback: ZoneFallback, cluster: Cluster): void {
    if (this.#roster.clusters.includes(cluster) && fallback.end(cluster)) this.#refresh(cluster);
  }
}
