import { LogThrottle, type Logger } from '../log.js';
import { addressKey, type NameTable, type ResolvedAddress } from '../upstream/node-names.js';
import type { Resolve } from '../upstream/resolve.js';

/** A name that keeps failing is logged once per this long at most, with its failures since. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * The coordinator's resolver of node host names (the seed's stale-DNS pitfall): every name is
 * resolved once before the threads start and again every GATEWAY_DNS_TTL_MS, for all threads at
 * once; a name whose addresses changed is reported with the whole table, and each thread moves
 * that node's new connections there (UpstreamPools.readdress). A failed resolution keeps the last
 * good addresses. IP literals never get here, and nothing here runs per request or per connection.
 */
export class NameWatcher {
  readonly #resolve: Resolve;
  readonly #ttlMs: number;
  readonly #log: Logger;
  readonly #onChange: (names: NameTable) => void;
  readonly #clock: () => number;
  #table = new Map<string, readonly ResolvedAddress[]>();
  #hostnames = new Set<string>();
  /** Names with a resolution under way: a slow resolver never gets two at once for one name. */
  readonly #pending = new Set<string>();
  /** Names failing to resolve, each logged on its own throttle. */
  readonly #failing = new Map<string, LogThrottle>();
  #timer: NodeJS.Timeout | null = null;

  constructor(resolve: Resolve, ttlMs: number, log: Logger, onChange: (names: NameTable) => void, clock: () => number = Date.now) {
    this.#resolve = resolve;
    this.#ttlMs = ttlMs;
    this.#log = log;
    this.#onChange = onChange;
    this.#clock = clock;
  }

  /** The last good addresses of every name (a fresh Map after every change: threads get copies). */
  get table(): NameTable {
    return this.#table;
  }

  /** Resolves `hostnames` once (the threads then start on their addresses), then every TTL until stop(). */
  async start(hostnames: ReadonlySet<string>): Promise<void> {
    this.#hostnames = new Set(hostnames);
    await this.#round(this.#hostnames, false);
    if (this.#hostnames.size > 0) this.#schedule();
  }

  /** A reload: the names of the new config from now on; names it adds are resolved at once. */
  watch(hostnames: ReadonlySet<string>): void {
    const added = [...hostnames].filter((name) => !this.#hostnames.has(name));
    const dropped = [...this.#hostnames].some((name) => !hostnames.has(name));
    this.#hostnames = new Set(hostnames);
    if (dropped) {
      this.#table = new Map([...this.#table].filter(([name]) => hostnames.has(name)));
      for (const name of this.#failing.keys()) if (!hostnames.has(name)) this.#failing.delete(name);
    }
    if (added.length > 0) void this.#round(added, true);
    if (this.#timer === null && hostnames.size > 0) this.#schedule();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    this.#timer = setInterval(() => void this.#round(this.#hostnames, true), this.#ttlMs);
    this.#timer.unref();
  }

  async #round(hostnames: Iterable<string>, report: boolean): Promise<void> {
    const names = [...hostnames].filter((name) => !this.#pending.has(name));
    for (const name of names) this.#pending.add(name);
    const results = await Promise.allSettled(names.map((name) => this.#resolve(name)));
    const next = new Map(this.#table);
    let changed = false;
    results.forEach((result, i) => {
      const name = names[i]!;
      this.#pending.delete(name);
      // Dropped by a reload while it was being resolved.
      if (!this.#hostnames.has(name)) return;
      if (result.status === 'rejected') return this.#failed(name, result.reason as Error);
      this.#recovered(name);
      if (addressKey(result.value) === addressKey(next.get(name))) return;
      const addresses = result.value.map((a) => a.address);
      const before = next.get(name);
      if (before === undefined) this.#log.info({ name, addresses }, 'node host name resolved');
      else this.#log.info({ name, addresses, before: before.map((a) => a.address) }, 'node host name resolved to new addresses; new connections go there');
      next.set(name, result.value);
      changed = true;
    });
    if (!changed) return;
    this.#table = next;
    if (report) this.#onChange(next);
  }

  #failed(name: string, err: Error): void {
    const throttle = this.#failing.get(name) ?? new LogThrottle(FAILURE_LOG_INTERVAL_MS);
    this.#failing.set(name, throttle);
    const failures = throttle.count(this.#clock());
    if (failures === null) return;
    const kept = this.#table.get(name)?.map((a) => a.address) ?? null;
    this.#log.warn({ name, failures, err: err.message, kept }, 'node host name could not be resolved; its last good addresses stay');
  }

  #recovered(name: string): void {
    if (!this.#failing.delete(name)) return;
    this.#log.info({ name }, 'node host name resolves again');
  }
}
