import type { InstanceWindow, LocalTenantWindow, WindowSums } from './fleet-load.js';
import { isValidTenantId } from './tenant-id.js';
import { decimalValue, EXACT_DIGITS } from '../decimal.js';

/**
 * The text an instance publishes for one window (fleet-load.ts): a header line
 * `<FORMAT> <window> <windowMs>`, then a line `<tenant> <requests> <errors5xx> <latencyUs>` per
 * tenant. Tenant ids hold no spaces or line breaks (tenant-id.ts), so nothing needs escaping,
 * and a publication is a third the size of the same in JSON.
 */
const FORMAT = 'L1';

/**
 * Tenants in one publication at most. Every instance reads every other's each window, so Redis
 * serves instances² publications per window: this bounds each to ~40 KB. A tenant left out is
 * one that weighs little here (below), so adding nothing for it changes its fleet score little.
 */
export const MAX_PUBLISHED_TENANTS = 1000;

/**
 * This instance's window as text: only tenants with requests in it; beyond MAX_PUBLISHED_TENANTS,
 * those that weigh most in a fleet score, requests × their window score (latency plus 5xx penalty).
 */
export function encodeWindow(window: number, windowMs: number, tenants: Iterable<LocalTenantWindow>, errorPenaltyMs: number): string {
  let active: LocalTenantWindow[] = [];
  for (const tenant of tenants) if (tenant.windowScoredRequests > 0) active.push(tenant);
  if (active.length > MAX_PUBLISHED_TENANTS) {
    const weight = (t: LocalTenantWindow): number => t.windowLatencyUs / 1000 + t.windowErrors5xx * errorPenaltyMs;
    active = active.sort((a, b) => weight(b) - weight(a)).slice(0, MAX_PUBLISHED_TENANTS);
  }
  const lines = [`${FORMAT} ${window} ${windowMs}`];
  for (const t of active) lines.push(`${t.id} ${t.windowScoredRequests} ${t.windowErrors5xx} ${t.windowLatencyUs}`);
  return lines.join('\n');
}

/** A field that is a count (digits only: Number() would take '', ' 1' or '1e3'), else null. */
function count(field: string | undefined): number | null {
  const value = field === undefined ? -1 : decimalValue(field, EXACT_DIGITS);
  return value < 0 ? null : value;
}

/**
 * A publication read back, or null for text this version does not understand (another format
 * during a rolling upgrade, or damage): a whole publication is used or none of it.
 */
export function decodeWindow(text: string): InstanceWindow | null {
  const lines = text.split('\n');
  const header = lines[0]!.split(' ');
  const window = count(header[1]);
  const windowMs = count(header[2]);
  if (header.length !== 3 || header[0] !== FORMAT || window === null || windowMs === null || windowMs === 0) return null;
  const tenants = new Map<string, WindowSums>();
  for (let i = 1; i < lines.length; i++) {
    const fields = lines[i]!.split(' ');
    const [id, requests, errors5xx, latencyUs] = [fields[0]!, count(fields[1]), count(fields[2]), count(fields[3])];
    if (fields.length !== 4 || !isValidTenantId(id) || requests === null || errors5xx === null || latencyUs === null) return null;
    tenants.set(id, { requests, errors5xx, latencyUs });
  }
  return { window, windowMs, tenants };
}
