import type { GatewayConfig } from '../config/load.js';
import type { Logger } from '../log.js';
import { panicMode, usableShare } from '../resilience/node-health.js';
import { setZoneFallback, type NodeTable } from '../shm/node-table.js';
import type { Cluster, Node } from './node-state.js';

/**
 * Hard zone affinity's way out (the README's Zones): a cluster whose local nodes' mean health falls
 * under `zoneFallbackHealth` (or that has none) lets other zones serve until the local nodes are
 * healthy enough again. The node monitor decides when; this writes the shared flag and logs.
 */
export class ZoneFallback {
  readonly #table: NodeTable;
  readonly #zone: string;
  readonly #threshold: number;
  readonly #log: Logger;
  /** A node whose circuit breaker is not closed serves (next to) nothing, whatever its health. */
  readonly #breakerOpen: (index: number) => boolean;

  constructor(table: NodeTable, settings: GatewayConfig['settings'], zone: string, log: Logger, breakerOpen: (index: number) => boolean = () => false) {
    this.#table = table;
    this.#zone = zone;
    this.#threshold = settings.zoneFallbackHealth;
    this.#log = log;
    this.#breakerOpen = breakerOpen;
  }

  /** The nodes the cluster may use now: its local ones unless the fallback is on. */
  eligible(cluster: Cluster): Node[] {
    return cluster.zoneFallback ? cluster.nodes : cluster.nodes.filter((node) => node.config.az === this.#zone);
  }

  /** Starts the fallback when the local nodes are too unhealthy. */
  start(cluster: Cluster): void {
    if (cluster.zoneFallback) return;
    const meanHealth = this.#localMeanHealth(cluster);
    if (!this.#wanted(cluster, meanHealth)) return;
    cluster.zoneFallback = true;
    setZoneFallback(this.#table, cluster.index, true);
    this.#log.warn({ cluster: cluster.name, zone: this.#zone, meanHealth }, 'zone fallback: local nodes too unhealthy, other zones serve');
  }

  /** The fallback is on and the local nodes are healthy enough again to end it. */
  over(cluster: Cluster): boolean {
    return cluster.zoneFallback && !this.#wanted(cluster, this.#localMeanHealth(cluster));
  }

  /** Ends the fallback if the local nodes are still healthy enough; true when it ended. */
  end(cluster: Cluster): boolean {
    if (!cluster.zoneFallback) return false;
    const meanHealth = this.#localMeanHealth(cluster);
    if (this.#wanted(cluster, meanHealth)) return false;
    cluster.zoneFallback = false;
    setZoneFallback(this.#table, cluster.index, false);
    this.#log.warn({ cluster: cluster.name, zone: this.#zone, meanHealth }, 'zone fallback over');
    return true;
  }

  /**
   * The other zones should serve: the cluster has no local node, or its local nodes are too
   * unhealthy (mean health, or a local panic) and the other zones would help: serving over every
   * zone is no panic, or a panic over a share of usable nodes at least the local one (with the
   * other zones down too, it would send requests across zones to dead nodes, and fewer to the
   * healthy local ones).
   */
  #wanted(cluster: Cluster, meanHealth: number): boolean {
    const local = this.#localScores(cluster);
    if (local.length === 0) return true;
    if (meanHealth >= this.#threshold && !panicMode(local, cluster.panicThreshold)) return false;
    const all = this.#scores(cluster.nodes);
    return !panicMode(all, cluster.panicThreshold) || usableShare(all) >= usableShare(local);
  }

  /** The local nodes' mean health (0 for a node whose breaker is not closed), 0 with none. */
  #localMeanHealth(cluster: Cluster): number {
    const local = this.#localScores(cluster);
    return local.length === 0 ? 0 : local.reduce((sum, score) => sum + score, 0) / local.length;
  }

  #localScores(cluster: Cluster): number[] {
    return this.#scores(cluster.nodes.filter((node) => node.config.az === this.#zone));
  }

  #scores(nodes: readonly Node[]): number[] {
    return nodes.map((node) => (this.#breakerOpen(node.index) ? 0 : node.score));
  }
}
