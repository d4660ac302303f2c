import { describe, expect, it } from 'vitest';
import type { LocalTenantWindow } from '../../src/routing/fleet-load.js';
import { decodeWindow, encodeWindow, MAX_PUBLISHED_TENANTS } from '../../src/routing/fleet-load-record.js';

const local = (id: string, windowScoredRequests: number, windowErrors5xx = 0, windowLatencyUs = windowScoredRequests * 1000): LocalTenantWindow => ({
  id,
  windowScoredRequests,
  windowErrors5xx,
  windowLatencyUs,
});

describe('fleet load record', () => {
  it('publishes the tenants with requests in the window, and reads back the same sums', () => {
    const text = encodeWindow(17, 200, [local('acme', 3, 1, 90_000), local('idle', 0), local('org:b-2.x_y', 1)], 1000);
    expect(text).toBe('L1 17 200\nacme 3 1 90000\norg:b-2.x_y 1 0 1000');
    expect(decodeWindow(text)).toEqual({
      window: 17,
      windowMs: 200,
      tenants: new Map([
        ['acme', { requests: 3, errors5xx: 1, latencyUs: 90_000 }],
        ['org:b-2.x_y', { requests: 1, errors5xx: 0, latencyUs: 1000 }],
      ]),
    });
    expect(decodeWindow(encodeWindow(1, 1000, [], 1000))).toEqual({ window: 1, windowMs: 1000, tenants: new Map() });
  });

  it(`keeps the ${MAX_PUBLISHED_TENANTS} tenants that weigh most (latency plus 5xx penalty, all requests together)`, () => {
    const many = Array.from({ length: MAX_PUBLISHED_TENANTS + 2 }, (_, i) => local(`t${i}`, 1, 0, 1000 + i));
    // Fast but failing: 2 × 1000 ms of penalty outweighs everyone's latency.
    many.push(local('failing', 2, 2, 10));
    const decoded = decodeWindow(encodeWindow(1, 200, many, 1000))!;
    expect(decoded.tenants.size).toBe(MAX_PUBLISHED_TENANTS);
    expect(decoded.tenants.has('failing')).toBe(true);
    for (const lightest of ['t0', 't1', 't2']) expect(decoded.tenants.has(lightest)).toBe(false);
    expect(decoded.tenants.has(`t${MAX_PUBLISHED_TENANTS + 1}`)).toBe(true);
  });

  it.each([
    ['another format', 'L2 1 200\nacme 1 0 10'],
    ['a header without the window length', 'L1 1'],
    ['a zero window length', 'L1 1 0'],
    ['a number that is not a count', 'L1 1 200\nacme 1 0 -5'],
    ['an exponent', 'L1 1e3 200'],
    ['an empty field', 'L1  200'],
    ['a missing field', 'L1 1 200\nacme 1 0'],
    ['an extra field', 'L1 1 200\nacme 1 0 10 4'],
    ['a tenant id the gateway would refuse', 'L1 1 200\nac/me 1 0 10'],
    ['nothing', ''],
  ])('refuses a whole publication for %s', (_, text) => {
    expect(decodeWindow(text)).toBeNull();
  });
});
