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
  readonly #settings: Readonly<Settings>;

  constructor(settings: Readonly<Settings>) {
    this.#settings = settings;
  }

  /** The pool of the node at `origin`. */
  forNode(origin: string): Pool {
    let pool = this.#byOrigin.get(origin);
    if (pool === undefined) {
      const s = this.#settings;
      pool = new Pool(origin, {
        connections: s.upstreamPoolSize,
        headersTimeout: s.upstreamTimeoutMs,
        bodyTimeout: s.upstreamTimeoutMs,
        connect: { timeout: s.upstreamConnectTimeoutMs },
      });
      this.#byOrigin.set(origin, pool);
    }
    return pool;
  }

  /** Closes, gracefully (undici lets their requests finish), the pools of origins not in `kept`. */
  retainOnly(kept: ReadonlySet<string>): void {
    for (const [origin, pool] of this.#byOrigin) {
      if (kept.has(origin)) continue;
      this.#byOrigin.delete(origin);
      void pool.close();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#byOrigin.values()].map((pool) => pool.destroy()));
    this.#byOrigin.clear();
  }
}
