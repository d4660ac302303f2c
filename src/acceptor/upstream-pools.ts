import type { GatewayConfig } from '../config/load.js';
import type { Settings } from '../config/schema.js';
import type { UpstreamTls } from '../config/upstream-tls-schema.js';
import { addressKey, nodeHostname, type NameTable } from '../upstream/node-names.js';
import { nodeLookup } from '../upstream/node-dial.js';
import { createNodeDispatcher } from '../upstream/node-dispatcher.js';
import { createResolve, FORGET_NAMES_AFTER_TTLS, type Resolve } from '../upstream/resolve.js';
import type { UpstreamDispatcher } from '../upstream/dispatcher.js';

/** What a node's pool is made for: a new address or TLS config means a new pool. */
interface NodeSpec {
  readonly origin: string;
  /** null: an IP literal, never re-resolved. */
  readonly hostname: string | null;
  readonly tls: UpstreamTls | undefined;
  readonly connections: number;
}

interface NodePool extends NodeSpec {
  pool: UpstreamDispatcher;
  /** addressKey of the addresses `pool` connects to ('' while its name is not resolved). */
  addresses: string;
}

/**
 * One keep-alive pool per node, per thread (the gateway's own HTTP/1.1 client for plain http
 * under GATEWAY_UPSTREAM_CLIENT=h1, else undici's Pool), kept across config reloads: a node that stays
 * keeps its warm connections, a new one gets a pool (it connects only on the first request),
 * and one no config names any more is closed once its requests are done. An https node's pool is
 * its cluster's (its TLS settings); an http one is shared by every cluster naming its origin.
 *
 * A node whose host name moves to another address (the coordinator re-resolves names every
 * GATEWAY_DNS_TTL_MS) gets a new pool pinned to it, swapped into the plans' pool lists in place, so
 * new requests open connections there while the old pool's requests finish, and its keep-alive
 * connections, stale now, close with it.
 */
export class UpstreamPools {
  readonly #byKey = new Map<string, NodePool>();
  /** Pools of nodes a reload removed or a name change moved, closing once the requests open then have ended. */
  readonly #retiring = new Set<UpstreamDispatcher>();
  readonly #settings: Readonly<Settings>;
  /** For names not resolved yet, with GATEWAY_DNS_SERVERS; null: Node's own lookup. */
  readonly #fallback: Resolve | null;
  #names: NameTable;
  /** The running config's pool lists, one per cluster: what a name change patches. */
  #lists: UpstreamDispatcher[][] = [];
  /** Calls back once every request open at the call has ended (Finisher.afterOpenEnd). */
  readonly #afterOpenEnd: (then: () => void) => void;

  constructor(settings: Readonly<Settings>, names: NameTable, afterOpenEnd: (then: () => void) => void) {
    this.#settings = settings;
    this.#names = names;
    this.#afterOpenEnd = afterOpenEnd;
    this.#fallback = settings.dnsServers.length === 0 ? null : createResolve(settings.dnsServers, settings.upstreamConnectTimeoutMs, FORGET_NAMES_AFTER_TTLS * settings.dnsTtlMs);
  }

  /**
   * Per cluster of `config`, its nodes' pools in node order (what the ring walk's member index
   * picks from). Pools `config` no longer names retire. With a cluster `maxInFlight`, selection
   * never gives a node more requests than that across all threads, so a pool of that many
   * connections never queues.
   */
  forConfig(config: GatewayConfig): ReadonlyMap<string, readonly UpstreamDispatcher[]> {
    const lists = new Map<string, UpstreamDispatcher[]>();
    const kept = new Set<NodePool>();
    for (const [name, cluster] of Object.entries(config.clusters)) {
      // Computed once per cluster: the PEM text makes a reload that rotates a certificate a new pool.
      const tlsKey = JSON.stringify(cluster.tls ?? null);
      const connections = cluster.maxInFlight ?? this.#settings.upstreamPoolSize;
      const list = cluster.nodes.map(({ url }) => {
        const https = url.startsWith('https:');
        // The connection count too: a reload that raises (or drops) maxInFlight needs a larger pool.
        const key = https ? `${url} ${connections} ${tlsKey}` : `${url} ${connections}`;
        let entry = this.#byKey.get(key);
        if (entry === undefined) {
          const spec = { origin: url, hostname: nodeHostname(url), tls: https ? cluster.tls : undefined, connections };
          entry = { ...spec, ...this.#open(spec) };
          this.#byKey.set(key, entry);
        }
        kept.add(entry);
        return entry.pool;
      });
      lists.set(name, list);
    }
    for (const [key, entry] of this.#byKey) {
      if (kept.has(entry)) continue;
      this.#byKey.delete(key);
      this.#retire(entry.pool);
    }
    this.#lists = [...lists.values()];
    return lists;
  }

  /** The coordinator resolved the names again and some moved: their nodes get new pools. */
  readdress(names: NameTable): void {
    this.#names = names;
    for (const entry of this.#byKey.values()) {
      if (entry.hostname === null || addressKey(names.get(entry.hostname)) === entry.addresses) continue;
      const old = entry.pool;
      Object.assign(entry, this.#open(entry));
      for (const list of this.#lists) {
        for (let i = 0; i < list.length; i++) if (list[i] === old) list[i] = entry.pool;
      }
      this.#retire(old);
    }
  }

  /** The drain's deadline: no request starts to a node from now on (UpstreamDispatcher.cutUnwritten). */
  cutUnwritten(): void {
    for (const entry of this.#byKey.values()) entry.pool.cutUnwritten?.();
    for (const pool of this.#retiring) pool.cutUnwritten?.();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#byKey.values()].map((entry) => entry.pool.destroy()).concat([...this.#retiring].map((pool) => pool.destroy())));
    this.#byKey.clear();
    this.#retiring.clear();
  }

  #open({ origin, hostname, tls, connections }: NodeSpec): { pool: UpstreamDispatcher; addresses: string } {
    const s = this.#settings;
    const lookup = nodeLookup(origin, this.#names, this.#fallback);
    const pool = createNodeDispatcher(origin, s.upstreamClient, { tls, lookup, connectTimeoutMs: s.upstreamConnectTimeoutMs }, { connections, timeoutMs: s.upstreamTimeoutMs });
    return { pool, addresses: hostname === null ? '' : addressKey(this.#names.get(hostname)) };
  }

  /**
   * Closes a pool once no request can dispatch to it any more: one begun under an older config
   * (or before a name moved) may still be reading its body, or about to retry, with the old pool in
   * hand, however long that takes. Requests begun from now on find only the new pools. The pool then
   * still lets its own requests finish.
   */
  #retire(pool: UpstreamDispatcher): void {
    this.#retiring.add(pool);
    this.#afterOpenEnd(() => {
      // Destroyed already when the thread closed its pools meanwhile: nothing left to close.
      if (!this.#retiring.delete(pool)) return;
      pool.close().catch(() => {});
    });
  }
}
