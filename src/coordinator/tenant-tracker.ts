import type { Settings } from '../config/schema.js';
import { LogThrottle, type Logger } from '../log.js';
import type { FleetExchange } from '../routing/fleet-load.js';
import { stepShardState, targetShardFactor } from '../routing/shard-factor.js';
import { nextScore, windowScore, type ScoreOptions } from '../routing/tenant-score.js';
import { RecentEvents, type ShardEvent } from './recent-events.js';
import { chooseEvictions } from './tenant-eviction.js';
import { TenantHistories, WindowTimes } from './tenant-history.js';
import { addWindow, tenantView, TrackedTenant } from './tracked-tenant.js';
import type { TenantDetail, TenantOrder, TenantView } from './tenant-view.js';
import { evictSlot, harvestWindow, setNow, setShardFactor, untrackedCount, type TenantTable } from '../shm/tenant-table.js';


/** Eviction logs at most this often; the counter has every eviction. */
const EVICTION_LOG_INTERVAL_MS = 10_000;

/**
 * The coordinator's side of the tenant table: once per GATEWAY_SCORE_WINDOW_MS it stamps the
 * coarse clock, harvests every live tenant's window counters, scores each tenant and moves its
 * shard factor (with hysteresis; the table's SHARD_K is what acceptors route by), evicts tenants
 * idle longer than GATEWAY_TENANT_TTL_MS and then the least recently seen beyond
 * GATEWAY_MAX_TENANTS. Each tenant keeps its last windows' scores and k (tenant-history.ts).
 * In redis mode a window's score takes the other instances' sums too (fleet-load.ts), and the
 * window is published for them.
 */
export class TenantTracker {
  readonly #table: TenantTable;
  readonly #settings: Readonly<Settings>;
  readonly #log: Logger;
  /** Wall clock, epoch ms (Date.now outside tests): when windows ended, as views show them. */
  readonly #clock: () => number;
  /**
   * A clock no step of the wall clock moves (performance.now outside tests), for the coarse clock
   * of LAST_SEEN: stepped forward past the TTL, the wall clock would evict every tenant at once.
   */
  readonly #monotonic: () => number;
  readonly #startedAt: number;
  /** By slot: what the coordinator knows of the tenant living there. */
  readonly #tracked = new Map<number, TrackedTenant>();
  readonly #windowTimes = new WindowTimes();
  readonly #histories = new TenantHistories();
  readonly #scoreOptions: ScoreOptions;
  /** Plain routing ignores shard factors, so they stay 1 rather than claim a spread that is not there. */
  readonly #sharding: boolean;
  /** Redis mode's link to the other instances; null alone. */
  readonly #fleet: FleetExchange | null;
  /** Sorted views of #tracked, made on demand and dropped at each tick. */
  #ranking: Partial<Record<TenantOrder, TrackedTenant[]>> = {};
  #windows = 0;
  readonly #rebalances = new RecentEvents<ShardEvent>();
  #evictions = 0;
  readonly #evictionLog = new LogThrottle(EVICTION_LOG_INTERVAL_MS);
  #timer: NodeJS.Timeout | null = null;

  constructor(table: TenantTable, settings: Readonly<Settings>, log: Logger, clock: () => number, fleet: FleetExchange | null = null, monotonic: () => number = clock) {
    this.#table = table;
    this.#settings = settings;
    this.#log = log;
    this.#clock = clock;
    this.#monotonic = monotonic;
    this.#startedAt = monotonic();
    this.#scoreOptions = { errorPenaltyMs: settings.errorPenaltyMs, decayMode: settings.decayMode, decayRequests: settings.decayRequests };
    this.#sharding = settings.routingMode === 'adaptive';
    this.#fleet = fleet;
  }

  start(): void {
    this.#timer = setInterval(() => this.tick(), this.#settings.scoreWindowMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  get live(): number {
    return this.#tracked.size;
  }

  get evictions(): number {
    return this.#evictions;
  }

  /** Scoring windows closed so far. */
  get windows(): number {
    return this.#windows;
  }

  /** Changes of any tenant's shard factor so far. */
  get rebalances(): number {
    return this.#rebalances.count;
  }

  /** The last shard factor changes, oldest first. */
  recentRebalances(): ShardEvent[] {
    return this.#rebalances.recent();
  }

  get untracked(): number {
    return untrackedCount(this.#table);
  }

  /** One scoring window: harvest and score, then evict. */
  tick(): void {
    const window = ++this.#windows;
    const wallNow = this.#clock();
    const now = this.#coarse();
    setNow(this.#table, now);
    this.#windowTimes.record(window, wallNow);
    const remote = this.#fleet?.remoteSums(window);
    let harvested = 0;
    harvestWindow(this.#table, (slot, keyLo, keyHi, requests, ownAnswers, errors5xx, latencySumUs, stamp) => {
      harvested++;
      // Requests stamp the NOW of the tick before theirs: one that ended in this window was seen up
      // to now, so an idle tenant is evicted a whole TTL after it was last seen, not up to a window early.
      const lastSeen = requests > 0 ? now : stamp;
      let tracked = this.#tracked.get(slot);
      if (tracked === undefined || tracked.keyLo !== keyLo || tracked.keyHi !== keyHi) {
        if (tracked !== undefined) this.#histories.release(tracked.historyRow);
        tracked = new TrackedTenant(this.#table, slot, keyLo, keyHi, lastSeen, window, this.#histories.take());
        this.#tracked.set(slot, tracked);
      }
      tracked.harvestedIn = window;
      addWindow(tracked, requests, ownAnswers, errors5xx, latencySumUs, lastSeen);
      tracked.remote = remote?.get(tracked.id);
      this.#score(slot, tracked, wallNow);
      this.#histories.record(tracked.historyRow, window, tracked.score, tracked.shard.k);
    });
    // Only evictions here empty a slot, so a tracked tenant gone from its slot is all but
    // impossible: the harvest counts rather than filling a set of the slots seen (an entry and two
    // lookups per tenant each window), and the tenant is looked for only when the count says so.
    if (harvested < this.#tracked.size) {
      this.#tracked.forEach((tracked, slot) => {
        if (tracked.harvestedIn !== window) this.#untrack(slot, tracked);
      });
    }
    this.#fleet?.publish(window, this.#tracked.values());

    const { idle, overLimit } = chooseEvictions(this.#tracked, now, Math.ceil(this.#settings.tenantTtlMs / 100), this.#settings.maxTenants);
    for (const slot of [...idle, ...overLimit]) {
      evictSlot(this.#table, slot);
      this.#untrack(slot, this.#tracked.get(slot)!);
    }
    this.#noteEvictions(idle.length, overLimit.length);
    this.#ranking = {};
  }

  /** The `top` tenants by score (unscored last) or by requests in the last window. */
  top(top: number, order: TenantOrder): TenantView[] {
    const now = this.#coarse();
    return this.#ranked(order).slice(0, top).map((t) => tenantView(t, now, this.#fleet !== null));
  }

  /** One tenant with its window history, or undefined when it is not tracked. */
  tenant(id: string): TenantDetail | undefined {
    for (const t of this.#tracked.values()) {
      if (t.id === id) return { ...tenantView(t, this.#coarse(), this.#fleet !== null), history: this.#histories.entries(t.historyRow, t.firstWindow, t.harvestedIn, this.#windowTimes) };
    }
    return undefined;
  }


  /**
   * Every tenant in `order`. What it sorts by changes only at a tick, so each scrape's two gauges
   * and every /tenants call within a window share one sort of up to GATEWAY_MAX_TENANTS entries.
   */
  #ranked(order: TenantOrder): TrackedTenant[] {
    const byRequests = (a: TrackedTenant, b: TrackedTenant): number => b.windowRequests - a.windowRequests || b.totalRequests - a.totalRequests;
    const byScore = (a: TrackedTenant, b: TrackedTenant): number => (b.score ?? -1) - (a.score ?? -1) || byRequests(a, b);
    return (this.#ranking[order] ??= [...this.#tracked.values()].sort(order === 'score' ? byScore : byRequests));
  }

  /** A tenant's window (with the other instances', in redis mode) goes into its score; its target shard factor into the hysteresis. */
  #score(slot: number, tracked: TrackedTenant, wallNow: number): void {
    const { remote } = tracked;
    const window = {
      requests: tracked.windowScoredRequests + (remote?.requests ?? 0),
      errors5xx: tracked.windowErrors5xx + (remote?.errors5xx ?? 0),
      latencySumMs: (tracked.windowLatencyUs + (remote?.latencyUs ?? 0)) / 1000,
    };
    if (tracked.score === null && window.requests === 0) return;
    const own = windowScore(window, this.#scoreOptions.errorPenaltyMs);
    tracked.score = nextScore(tracked.score, own, window.requests, this.#scoreOptions);
    if (!this.#sharding) return;
    const { hotScore } = this.#settings;
    const next = stepShardState(tracked.shard, targetShardFactor(tracked.score, hotScore), targetShardFactor(own, hotScore));
    if (next.k !== tracked.shard.k) {
      setShardFactor(this.#table, slot, next.k);
      this.#rebalances.record({ kind: 'shard', at: wallNow, tenant: tracked.id, from: tracked.shard.k, to: next.k });
    }
    tracked.shard = next;
  }

  #untrack(slot: number, tracked: TrackedTenant): void {
    this.#tracked.delete(slot);
    this.#histories.release(tracked.historyRow);
  }

  #noteEvictions(idle: number, overLimit: number): void {
    const count = idle + overLimit;
    if (count === 0) return;
    this.#evictions += count;
    // On the monotonic clock: a wall clock stepped back would silence the line for as long.
    const evicted = this.#evictionLog.count(this.#monotonic(), count);
    if (evicted === null) return;
    this.#log.info({ evicted, live: this.#tracked.size, maxTenants: this.#settings.maxTenants }, 'tenants evicted');
  }

  /** The coarse clock acceptors stamp LAST_SEEN with: tenths of a second since start. */
  #coarse(): number {
    return Math.floor((this.#monotonic() - this.#startedAt) / 100);
  }
}
