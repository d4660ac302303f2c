import { Pool } from 'undici';
import type { Settings } from '../config/schema.js';

/**
 * One keep-alive undici Pool per node origin, per thread, kept across config reloads: a node that
 * stays keeps its warm connections, a new one gets a pool when a plan first names it (undici
 * connects only on the first request), and one no config names any more is closed once its
 * requests are done.
 */
export class UpstreamPools {
  readonly #byOrigin = new Map<string, Pool>();
  /** Pools of origins a reload removed, closing soon. */
  readonly #retiring = new Set<Pool>();
  readonly #settings: Readonly<Settings>;

  constructor(settings: Readonly<Settings>) {
    this.#settings = settings;
  }

  /**
   * The pool of the node at `origin`. With a cluster `maxInFlight`, selection never gives the node
   * more requests than that across all threads, so a pool of that many connections never queues.
   */
  forNode(origin: string, maxInFlight: number | undefined): Pool {
    let pool = this.#byOrigin.get(origin);
    if (pool === undefined) {
      const s = this.#settings;
      pool = new Pool(origin, {
        connections: maxInFlight ?? s.upstreamPoolSize,
        headersTimeout: s.upstreamTimeoutMs,
        bodyTimeout: s.upstreamTimeoutMs,
        connect: { timeout: s.upstreamConnectTimeoutMs },
      });
      this.#byOrigin.set(origin, pool);
    }
    return pool;
  }

  /**
   * Closes the pools of origins not in `kept`, gracefully and late: a request of the old config
   * may still be reading its body before it dispatches, so a pool closes only after
   * GATEWAY_UPSTREAM_TIMEOUT_MS, and undici then still lets its requests finish.
   */
  retainOnly(kept: ReadonlySet<string>): void {
    for (const [origin, pool] of this.#byOrigin) {
      if (kept.has(origin)) continue;
      this.#byOrigin.delete(origin);
      this.#retiring.add(pool);
      setTimeout(() => {
        this.#retiring.delete(pool);
        void pool.close();
      }, this.#settings.upstreamTimeoutMs).unref();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#byOrigin.values(), ...this.#retiring].map((pool) => pool.destroy()));
    this.#byOrigin.clear();
    this.#retiring.clear();
  }
}
