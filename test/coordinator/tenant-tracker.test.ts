import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../src/config/schema.js';
import { TenantTracker } from '../../src/coordinator/tenant-tracker.js';
import type { FleetExchange, LocalTenantWindow, WindowSums } from '../../src/routing/fleet-load.js';
import { bucketOf, createTenantTable, evictSlot, findOrClaim, recordOwnAnswer, recordRequest, shardFactor, type TenantTable } from '../../src/shm/tenant-table.js';

function request(table: TenantTable, tenant: string, key: number, latencyUs = 1000, serverError = false): void {
  recordRequest(table, findOrClaim(table, key, key, tenant), key, key, latencyUs, serverError);
}

const START = Date.UTC(2024, 0, 1);

/** A tracker on a fake clock (epoch ms, moved only by `advance`) that keeps its log lines. */
function tracker(overrides: Record<string, unknown>, fleet: FleetExchange | null = null) {
  const settings = settingsSchema.parse({ maxTenants: 3, tenantTtlMs: 60_000, ...overrides });
  const table = createTenantTable(settings.maxTenants);
  let ms = START;
  const logs: { msg: string; evicted?: number }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as { msg: string }) });
  const t = new TenantTracker(table, settings, log, () => ms, fleet);
  return { table, tracker: t, logs, advance: (by: number) => (ms += by) };
}

describe('tenant tracker', () => {
  it('adds up windows per tenant and ranks the busiest of the last window first', () => {
    const { table, tracker: t } = tracker({});
    for (let i = 0; i < 3; i++) request(table, 'a', 1, 2000);
    request(table, 'b', 2, 4000, true);
    t.tick();
    request(table, 'b', 2, 1000);
    request(table, 'b', 2, 1000);
    t.tick();
    expect(t.top(10, 'requests')).toMatchObject([
      { tenant: 'b', windowRequests: 2, totalRequests: 3, totalErrors5xx: 1, windowAvgLatencyMs: 1, avgLatencyMs: 2 },
      { tenant: 'a', windowRequests: 0, totalRequests: 3, totalErrors5xx: 0, avgLatencyMs: 2 },
    ]);
    expect(t.top(1, 'requests')).toHaveLength(1);
  });

  it('evicts the least recently seen beyond the limit, the less busy first among equals', () => {
    const { table, tracker: t, advance } = tracker({ maxTenants: 2 });
    request(table, 'old', 1);
    t.tick();
    advance(250); // the coarse clock moves in tenths of a second, stamped at each window
    t.tick();
    request(table, 'busy', 2);
    request(table, 'busy', 2);
    request(table, 'quiet', 3);
    request(table, 'mid', 4);
    request(table, 'mid', 4);
    t.tick();
    expect(t.evictions).toBe(2); // 'old', then 'quiet' of the three seen in the same tick
    expect(t.live).toBe(2);
    expect(t.top(10, 'requests').map((v) => v.tenant).sort()).toEqual(['busy', 'mid']);
    // The freed slots take new tenants, whose counts start from zero.
    request(table, 'new', 5);
    t.tick();
    expect(t.top(10, 'requests').find((v) => v.tenant === 'new')).toMatchObject({ totalRequests: 1 });
  });

  it('evicts tenants idle longer than the TTL', () => {
    const { table, tracker: t, advance } = tracker({ maxTenants: 10, tenantTtlMs: 1000 });
    request(table, 'idle', 1); // seen at 0
    t.tick();
    advance(600);
    t.tick(); // the clock now reads 6 tenths: nothing is idle long enough yet
    expect(t.evictions).toBe(0);
    request(table, 'active', 2); // seen at 6
    advance(600);
    t.tick(); // 12: 'idle' has been idle past 10 tenths, 'active' for 6
    expect(t.top(10, 'requests').map((v) => v.tenant)).toEqual(['active']);
    expect(t.evictions).toBe(1);
  });

  it("evicts a tenant only once it was idle a whole TTL, though requests are stamped with the last window's clock", () => {
    const { table, tracker: t, advance } = tracker({ maxTenants: 10, tenantTtlMs: 15_000, scoreWindowMs: 10_000 });
    t.tick(); // 0 s
    advance(9_900);
    request(table, 'late', 1); // at 9.9 s, stamped 0 s
    advance(100);
    t.tick(); // 10 s
    advance(10_000);
    t.tick(); // 20 s: idle 10.1 s
    expect(t.evictions).toBe(0);
    advance(10_000);
    t.tick(); // 30 s: idle 20.1 s
    expect(t.evictions).toBe(1);
  });

  it('keeps a tenant busy in every window when its TTL is one window and the ticks run late', () => {
    const { table, tracker: t, advance } = tracker({ maxTenants: 10, tenantTtlMs: 1_000, scoreWindowMs: 1_000 });
    for (let w = 0; w < 30; w++) {
      request(table, 'busy', 1);
      advance(1_010);
      t.tick();
    }
    expect(t.evictions).toBe(0);
    expect(t.top(1, 'requests')[0]).toMatchObject({ tenant: 'busy', totalRequests: 30 });
  });

  it('logs evictions again 10 s later though the wall clock stepped back meanwhile', () => {
    const settings = settingsSchema.parse({ maxTenants: 10, tenantTtlMs: 100 });
    const table = createTenantTable(settings.maxTenants);
    let wall = START;
    let monotonic = 0;
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push((JSON.parse(line) as { msg: string }).msg) });
    const t = new TenantTracker(table, settings, log, () => wall, null, () => monotonic);
    const evictAfter = (tenant: string, key: number): void => {
      request(table, tenant, key);
      t.tick();
      monotonic += 10_000;
      t.tick();
    };
    evictAfter('a', 1);
    wall -= 3_600_000; // NTP steps the wall clock an hour back
    monotonic += 1_000;
    evictAfter('b', 2);
    expect(t.evictions).toBe(2);
    expect(lines.filter((msg) => msg === 'tenants evicted')).toHaveLength(2);
  });

  it('evicts nobody when the wall clock steps past the TTL: idleness is counted on a clock steps do not move', () => {
    const settings = settingsSchema.parse({ maxTenants: 10, tenantTtlMs: 1000 });
    const table = createTenantTable(settings.maxTenants);
    let wall = START;
    let monotonic = 0;
    const t = new TenantTracker(table, settings, pino({ level: 'silent' }), () => wall, null, () => monotonic);
    request(table, 'busy', 1);
    t.tick();
    // NTP steps the wall clock an hour ahead between two windows; 200 ms go by.
    wall += 3_600_000;
    monotonic += 200;
    request(table, 'busy', 1);
    t.tick();
    expect(t.evictions).toBe(0);
    expect(t.top(10, 'requests').map((v) => v.tenant)).toEqual(['busy']);
  });

  it('logs evictions at most once per 10 s, with the count since the last line', () => {
    const { table, tracker: t, logs, advance } = tracker({ maxTenants: 10, tenantTtlMs: 100 });
    const evictAfter = (ms: number, tenants: string[]) => {
      tenants.forEach((tenant, i) => request(table, tenant, 10 + i));
      t.tick();
      advance(ms);
      t.tick(); // idle past the TTL by now
    };
    evictAfter(200, ['a']);
    evictAfter(9_000, ['b', 'c']); // 9 s after the first line
    expect(logs.filter((l) => l.msg === 'tenants evicted').map((l) => l.evicted)).toEqual([1]);
    evictAfter(1_000, ['d']); // 10 s after it
    expect(logs.filter((l) => l.msg === 'tenants evicted').map((l) => l.evicted)).toEqual([1, 3]);
    expect(t.evictions).toBe(4);
  });

  /** Windows of one tenant: `latencyMs` per request, `requests` of them; returns k after each. */
  function windows(table: TenantTable, t: TenantTracker, plan: readonly { requests: number; latencyMs: number }[]): number[] {
    const slot = findOrClaim(table, 9, 9, 'hot');
    return plan.map(({ requests, latencyMs }) => {
      for (let i = 0; i < requests; i++) recordRequest(table, slot, 9, 9, latencyMs * 1000, false);
      t.tick();
      return shardFactor(table, slot, 9, 9);
    });
  }
  const slow = { requests: 10, latencyMs: 300 };
  const fast = { requests: 10, latencyMs: 1 };

  it('scores each window and writes k to the table after 3 hot windows, then steps it down one per 5', () => {
    const { table, tracker: t } = tracker({});
    // 300 ms → score 300 → k = ⌈1 + 300/200⌉ = 3, from the 3rd window on. Back to 1 ms, the score
    // halves per window (150, 75, …): below k's target from the first fast window, so k is 2 after
    // 5 fast windows and 1 after 10.
    expect(windows(table, t, [slow, slow, slow, slow])).toEqual([1, 1, 3, 3]);
    expect(t.top(1, 'score')[0]).toMatchObject({ tenant: 'hot', k: 3 });
    expect(t.top(1, 'score')[0]!.score).toBeCloseTo(300, 0);
    expect(windows(table, t, Array(10).fill(fast))).toEqual([3, 3, 3, 3, 2, 2, 2, 2, 2, 1]);
    expect(t.rebalances).toBe(3);
    expect(t.recentRebalances().map(({ kind, tenant, from, to, at }) => ({ kind, tenant, from, to, at }))).toEqual([
      { kind: 'shard', tenant: 'hot', from: 1, to: 3, at: START },
      { kind: 'shard', tenant: 'hot', from: 3, to: 2, at: START },
      { kind: 'shard', tenant: 'hot', from: 2, to: 1, at: START },
    ]);
    expect(t.windows).toBe(14);
  });

  it('damps a tenant whose latency falls as it spreads: each flap back holds k longer before it may shrink again', () => {
    const { table, tracker: t } = tracker({});
    const slot = findOrClaim(table, 9, 9, 'hot');
    const ks: number[] = [];
    for (let w = 0; w < 400; w++) {
      // The tenant's own load queues on its nodes: k of them answer it in 570 / k ms. At k = 3 (190)
      // its score asks for 2; at 2 (285), for 3 again.
      const latencyMs = 570 / shardFactor(table, slot, 9, 9);
      for (let i = 0; i < 50; i++) recordRequest(table, slot, 9, 9, latencyMs * 1000, false);
      t.tick();
      ks.push(shardFactor(table, slot, 9, 9));
    }
    // Undamped it moved every 8 windows or so (about 100 times in 400). Held 20, 40, 80, 160, 320
    // windows after each flap back, the moves thin out: two in the second half.
    const moves = ks.flatMap((k, i) => (i > 0 && k !== ks[i - 1] ? [i] : []));
    expect(t.rebalances).toBeLessThanOrEqual(14);
    expect(moves.filter((i) => i >= 200).length).toBeLessThanOrEqual(2);
  });

  it('takes a tenant spread by a burst back to one node once its latency, whatever k, stays under the hot score', () => {
    const { table, tracker: t } = tracker({});
    const slot = findOrClaim(table, 9, 9, 'steady');
    const ks: number[] = [];
    for (let w = 0; w < 40; w++) {
      // Six windows at 250 ms, then 60 ms for good: the backend's own latency, not the tenant's load.
      for (let i = 0; i < 50; i++) recordRequest(table, slot, 9, 9, (w < 6 ? 250 : 60) * 1000, false);
      t.tick();
      ks.push(shardFactor(table, slot, 9, 9));
    }
    expect(ks.slice(2, 6)).toEqual([3, 3, 3, 3]);
    expect(ks.at(-1)).toBe(1);
  });

  it("keeps each tenant's last 32 windows, oldest first: tick time, score and k", () => {
    const { table, tracker: t, advance } = tracker({});
    const slot = findOrClaim(table, 9, 9, 'hot'); // no request finished in its first window
    const at = (window: number) => START + 400 * (window - 1);
    for (let window = 1; window <= 40; window++) {
      if (window > 1) for (let i = 0; i < 10; i++) recordRequest(table, slot, 9, 9, 300_000, false);
      t.tick();
      advance(400);
      if (window === 5) {
        expect(t.tenant('hot')!.history).toEqual([
          { window: 1, at: at(1), score: null, k: 1 },
          { window: 2, at: at(2), score: 300, k: 1 },
          { window: 3, at: at(3), score: 300, k: 1 },
          { window: 4, at: at(4), score: 300, k: 3 },
          { window: 5, at: at(5), score: 300, k: 3 },
        ]);
      }
    }
    const { history, ...view } = t.tenant('hot')!;
    expect(view).toEqual(t.top(1, 'score')[0]);
    expect(history.map((e) => e.window)).toEqual(Array.from({ length: 32 }, (_, i) => 9 + i));
    expect(history.at(-1)).toEqual({ window: 40, at: at(40), score: 300, k: 3 });
    expect(t.tenant('nobody')).toBeUndefined();
  });

  it('shows a tenant tracked after an evicted one only its own windows', () => {
    const { table, tracker: t, advance } = tracker({ maxTenants: 1 });
    for (let window = 1; window <= 5; window++) {
      request(table, 'first', 1, 300_000);
      t.tick();
      advance(1000);
    }
    request(table, 'second', 2);
    t.tick(); // 'first', the least recently seen, goes
    advance(1000);
    request(table, 'third', 3, 4000);
    t.tick(); // and now 'second'
    expect(t.tenant('first')).toBeUndefined();
    expect(t.tenant('third')!.history).toEqual([{ window: 7, at: START + 6000, score: 4, k: 1 }]);
  });

  it('drops a tenant whose slot was emptied between two ticks, and tracks afresh one that claimed the slot meanwhile', () => {
    const { table, tracker: t } = tracker({ maxTenants: 10 });
    request(table, 'a', 1, 300_000);
    request(table, 'b', 2);
    t.tick();
    const slotOfA = findOrClaim(table, 1, 1, 'a');
    evictSlot(table, slotOfA);
    // A key of the same bucket takes the first empty slot there: the one 'a' had.
    let key = 3;
    while (bucketOf(table, key, key) !== bucketOf(table, 1, 1)) key++;
    expect(findOrClaim(table, key, key, 'c')).toBe(slotOfA);
    request(table, 'c', key);
    t.tick();
    expect(t.tenant('a')).toBeUndefined();
    expect(t.tenant('c')).toMatchObject({ totalRequests: 1, history: [{ window: 2, score: 1 }] });
    expect(t.live).toBe(2);

    evictSlot(table, slotOfA);
    t.tick();
    expect(t.tenant('c')).toBeUndefined();
    expect(t.top(10, 'requests').map((v) => v.tenant)).toEqual(['b']);
    expect(t.live).toBe(1);
  });

  it("scores what the tenant's nodes answered: the gateway's own answers count as requests only", () => {
    const { table, tracker: t } = tracker({ errorPenaltyMs: 1000 });
    const slot = findOrClaim(table, 4, 4, 'limited');
    for (let w = 0; w < 3; w++) {
      // 10 answers of 300 ms and 90 refusals a window (its rate limit, say): 300, not 30.
      for (let i = 0; i < 10; i++) recordRequest(table, slot, 4, 4, 300_000, false);
      for (let i = 0; i < 90; i++) recordOwnAnswer(table, slot, 4, 4);
      t.tick();
    }
    expect(t.top(1, 'score')[0]).toMatchObject({ tenant: 'limited', windowRequests: 100, totalRequests: 300, windowAvgLatencyMs: 300, avgLatencyMs: 300, k: 3 });
    expect(t.top(1, 'score')[0]!.score).toBeCloseTo(300, 6);
  });

  it('counts 5xx answers into the score', () => {
    const { table, tracker: t } = tracker({ errorPenaltyMs: 1000 });
    const slot = findOrClaim(table, 3, 3, 'failing');
    for (let w = 0; w < 3; w++) {
      for (let i = 0; i < 10; i++) recordRequest(table, slot, 3, 3, 1000, i < 5); // half 5xx: 1 + 500
      t.tick();
    }
    expect(t.top(1, 'score')[0]!.score).toBeCloseTo(501, 6);
    expect(shardFactor(table, slot, 3, 3)).toBe(4);
  });

  it('ranks by score, unscored tenants last', () => {
    const { table, tracker: t } = tracker({});
    request(table, 'cool', 1, 1000);
    request(table, 'warm', 2, 50_000);
    t.tick();
    findOrClaim(table, 3, 3, 'new'); // claimed, no request finished yet
    t.tick();
    expect(t.top(3, 'score').map((v) => [v.tenant, v.score])).toEqual([
      ['warm', 25],
      ['cool', 0.5],
      ['new', null],
    ]);
  });

  it('does not shard a tenant for one very slow window, however long its score remembers it', () => {
    // One window of 5 s requests: score 5000, then halving per fast window (2500, 1250, 625, …),
    // above the hot score for many windows, but no window after the first is hot itself.
    const { table, tracker: t } = tracker({});
    const verySlow = { requests: 10, latencyMs: 5000 };
    expect(windows(table, t, [verySlow, ...Array(5).fill(fast)])).toEqual([1, 1, 1, 1, 1, 1]);
    expect(t.rebalances).toBe(0);
  });

  it('decaying by count, does not shard a tenant on windows without requests', () => {
    const { table, tracker: t } = tracker({ decayMode: 'count', decayRequests: 10 });
    const idle = { requests: 0, latencyMs: 0 };
    expect(windows(table, t, [slow, idle, idle, idle, idle])).toEqual([1, 1, 1, 1, 1]);
    expect(t.top(1, 'score')[0]!.score).toBeCloseTo(300, 6);
  });

  it('decaying by count, keeps an idle tenant\'s score and k', () => {
    const { table, tracker: t } = tracker({ decayMode: 'count', decayRequests: 10 });
    expect(windows(table, t, [slow, slow, slow, { requests: 0, latencyMs: 0 }, { requests: 0, latencyMs: 0 }])).toEqual([1, 1, 3, 3, 3]);
    expect(t.top(1, 'score')[0]!.score).toBeCloseTo(300, 6);
  });

  it('in redis mode scores each window with the other instances\' sums, and publishes its own', () => {
    // Elsewhere the tenant is slow (30 requests of 300 ms a window), here fast (10 of 1 ms): alone
    // it would stay cool; with the fleet it averages (10 + 9000) / 40 ≈ 225 ms, so k = 3.
    const remote = new Map<string, WindowSums>([
      ['hot', { requests: 30, errors5xx: 0, latencyUs: 30 * 300_000 }],
      ['elsewhere', { requests: 5, errors5xx: 5, latencyUs: 5000 }],
    ]);
    const published: { window: number; tenants: LocalTenantWindow[] }[] = [];
    const fleet: FleetExchange = {
      remoteSums: () => remote,
      publish: (window, tenants) => published.push({ window, tenants: [...tenants].map(({ id, windowScoredRequests, windowErrors5xx, windowLatencyUs }) => ({ id, windowScoredRequests, windowErrors5xx, windowLatencyUs })) }),
    };
    const { table, tracker: t } = tracker({}, fleet);
    expect(windows(table, t, [fast, fast, fast])).toEqual([1, 1, 3]);
    expect(t.top(10, 'score')).toMatchObject([{ tenant: 'hot', k: 3, windowRequests: 10, fleetWindowRequests: 40, windowAvgLatencyMs: 1 }]);
    expect(t.top(1, 'score')[0]!.score).toBeCloseTo(225.25, 6);
    // Published: this instance's own sums of each window, never the merged ones.
    expect(published).toEqual([1, 2, 3].map((window) => ({ window, tenants: [{ id: 'hot', windowScoredRequests: 10, windowErrors5xx: 0, windowLatencyUs: 10_000 }] })));
    // A tenant only other instances serve has no slot here, so nothing to route by: it is not tracked.
    expect(t.tenant('elsewhere')).toBeUndefined();
  });

  it('alone (local mode) shows no fleet numbers', () => {
    const { table, tracker: t } = tracker({});
    windows(table, t, [fast]);
    expect(t.top(1, 'score')[0]).not.toHaveProperty('fleetWindowRequests');
  });

  it('in plain routing mode scores tenants but leaves k at 1', () => {
    const { table, tracker: t } = tracker({ routingMode: 'plain' });
    expect(windows(table, t, [slow, slow, slow, slow])).toEqual([1, 1, 1, 1]);
    expect(t.top(1, 'score')[0]).toMatchObject({ k: 1 });
    expect(t.rebalances).toBe(0);
  });
});
