import { Pool } from 'undici';
import type { GatewayConfig } from '../config/load.js';

/** One keep-alive undici Pool per node, per thread, indexed like the cluster's node list. */
export class UpstreamPools {
  readonly #byCluster = new Map<string, Pool[]>();

  constructor(config: GatewayConfig) {
    const s = config.settings;
    for (const [name, cluster] of Object.entries(config.clusters)) {
      this.#byCluster.set(
        name,
        cluster.nodes.map(
          (node) =>
            new Pool(node.url, {
              connections: s.upstreamPoolSize,
              headersTimeout: s.upstreamTimeoutMs,
              bodyTimeout: s.upstreamTimeoutMs,
              connect: { timeout: s.upstreamConnectTimeoutMs },
            }),
        ),
      );
    }
  }

  /** Pools of a cluster in node order; the ring's owner index selects one. */
  cluster(name: string): readonly Pool[] {
    return this.#byCluster.get(name) ?? [];
  }

  async close(): Promise<void> {
    const pools = [...this.#byCluster.values()].flat();
    await Promise.allSettled(pools.map((pool) => pool.destroy()));
  }
}
