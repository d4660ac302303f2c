import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../src/config/schema.js';
import { TenantTracker } from '../../src/coordinator/tenant-tracker.js';
import { createLogger } from '../../src/log.js';
import { createTenantTable, findOrClaim, recordRequest, type TenantTable } from '../../src/shm/tenant-table.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function request(table: TenantTable, tenant: string, key: number, latencyUs = 1000, serverError = false): void {
  recordRequest(table, findOrClaim(table, key, key, tenant), latencyUs, serverError);
}

function tracker(overrides: Record<string, unknown>) {
  const settings = settingsSchema.parse({ maxTenants: 3, tenantTtlMs: 60_000, ...overrides });
  const table = createTenantTable(settings.maxTenants);
  return { table, tracker: new TenantTracker(table, settings, createLogger('silent')) };
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
    expect(t.top(10)).toMatchObject([
      { tenant: 'b', windowRequests: 2, totalRequests: 3, totalErrors5xx: 1, windowAvgLatencyMs: 1, avgLatencyMs: 2 },
      { tenant: 'a', windowRequests: 0, totalRequests: 3, totalErrors5xx: 0, avgLatencyMs: 2 },
    ]);
    expect(t.top(1)).toHaveLength(1);
  });

  it('evicts the least recently seen beyond the limit, the less busy first among equals', async () => {
    const { table, tracker: t } = tracker({ maxTenants: 2 });
    request(table, 'old', 1);
    t.tick();
    await sleep(250); // the coarse clock moves in tenths of a second, stamped at each window
    t.tick();
    request(table, 'busy', 2);
    request(table, 'busy', 2);
    request(table, 'quiet', 3);
    request(table, 'mid', 4);
    request(table, 'mid', 4);
    t.tick();
    expect(t.evictions).toBe(2); // 'old', then 'quiet' of the three seen in the same tick
    expect(t.live).toBe(2);
    expect(t.top(10).map((v) => v.tenant).sort()).toEqual(['busy', 'mid']);
    // The freed slots take new tenants, whose counts start from zero.
    request(table, 'new', 5);
    t.tick();
    expect(t.top(10).find((v) => v.tenant === 'new')).toMatchObject({ totalRequests: 1 });
  });

  it('evicts tenants idle longer than the TTL', async () => {
    const { table, tracker: t } = tracker({ maxTenants: 10, tenantTtlMs: 1000 });
    request(table, 'idle', 1); // seen at 0
    t.tick();
    await sleep(600);
    t.tick(); // the clock now reads ~6 tenths: nothing is idle long enough yet
    expect(t.evictions).toBe(0);
    request(table, 'active', 2); // seen at ~6
    await sleep(600);
    t.tick(); // ~12: 'idle' has been idle past 10 tenths, 'active' for ~6
    expect(t.top(10).map((v) => v.tenant)).toEqual(['active']);
    expect(t.evictions).toBe(1);
  });
});
