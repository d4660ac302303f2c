import type { WindowSums } from '../routing/fleet-load.js';
import { INITIAL_SHARD_STATE, type ShardState } from '../routing/shard-factor.js';
import { readTenantId, type TenantTable } from '../shm/tenant-table.js';
import type { TenantView } from './tenant-view.js';

/** What the coordinator knows of one tenant living in a slot of the tenant table (tenant-tracker.ts). */
export class TrackedTenant {
  readonly keyLo: number;
  readonly keyHi: number;
  /** The coarse clock's tick (tenths of a second) it was last seen at. */
  lastSeen: number;
  totalRequests = 0;
  /** Of those, the ones its nodes answered: the others (the gateway's own answers) have no latency or 5xx counted. */
  totalScoredRequests = 0;
  totalErrors5xx = 0;
  totalLatencyUs = 0;
  windowRequests = 0;
  windowScoredRequests = 0;
  windowErrors5xx = 0;
  windowLatencyUs = 0;
  /** Redis mode: the other instances' sums scored with this window. */
  remote: WindowSums | undefined = undefined;
  score: number | null = null;
  shard: ShardState = INITIAL_SHARD_STATE;
  /** Its row in the tracker's TenantHistories. */
  readonly historyRow: number;
  /** The window it was first harvested in: the oldest its history can show. */
  readonly firstWindow: number;
  /** The window it was last harvested in (and recorded in its history); one behind, it has left its slot. */
  harvestedIn: number;
  readonly #table: TenantTable;
  readonly #slot: number;
  #id: string | undefined = undefined;

  /** The tenant in `slot`, first harvested in window `window`, its history in row `historyRow`. */
  constructor(table: TenantTable, slot: number, keyLo: number, keyHi: number, lastSeen: number, window: number, historyRow: number) {
    this.#table = table;
    this.#slot = slot;
    this.keyLo = keyLo;
    this.keyHi = keyHi;
    this.lastSeen = lastSeen;
    this.historyRow = historyRow;
    this.firstWindow = window;
    this.harvestedIn = window;
  }

  /**
   * Read from its slot when first asked for (only the tracker empties slots, so the slot holds it
   * while the tenant is tracked): under churn most new tenants are evicted before anything asks,
   * and reading every new one's id at once took about a fifth of a tick.
   */
  get id(): string {
    return (this.#id ??= readTenantId(this.#table, this.#slot));
  }
}

/** One harvested window's counters into the tenant's window and totals. */
export function addWindow(tracked: TrackedTenant, requests: number, ownAnswers: number, errors5xx: number, latencySumUs: number, lastSeen: number): void {
  tracked.lastSeen = Math.max(tracked.lastSeen, lastSeen);
  // A request counted between the two exchanges may read as an own answer too many: never below 0.
  const scored = Math.max(0, requests - ownAnswers);
  tracked.totalRequests += requests;
  tracked.totalScoredRequests += scored;
  tracked.totalErrors5xx += errors5xx;
  tracked.totalLatencyUs += latencySumUs;
  tracked.windowRequests = requests;
  tracked.windowScoredRequests = scored;
  tracked.windowErrors5xx = errors5xx;
  tracked.windowLatencyUs = latencySumUs;
}

/** The tenant as views show it; `now` on the coarse clock, `fleet` in redis mode. */
export function tenantView(t: TrackedTenant, now: number, fleet: boolean): TenantView {
  return {
    tenant: t.id,
    windowRequests: t.windowRequests,
    totalRequests: t.totalRequests,
    windowErrors5xx: t.windowErrors5xx,
    totalErrors5xx: t.totalErrors5xx,
    windowAvgLatencyMs: t.windowScoredRequests > 0 ? t.windowLatencyUs / t.windowScoredRequests / 1000 : 0,
    avgLatencyMs: t.totalScoredRequests > 0 ? t.totalLatencyUs / t.totalScoredRequests / 1000 : 0,
    lastSeenMsAgo: Math.max(0, (now - t.lastSeen) * 100),
    score: t.score,
    k: t.shard.k,
    ...(fleet && { fleetWindowRequests: t.windowScoredRequests + (t.remote?.requests ?? 0) }),
  };
}
