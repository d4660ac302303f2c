import { describe, expect, it } from 'vitest';
import { HashKind } from '../../src/routing/route-table.js';
import { routingKey } from '../../src/routing/routing-key.js';

describe('routing key', () => {
  it('is the tenant, else the path, for tenant-keyed routes', () => {
    expect(routingKey(HashKind.Tenant, 'acme', '/x', 'h')).toBe('acme');
    expect(routingKey(HashKind.Tenant, '', '/x', 'h')).toBe('/x');
  });

  it('is the path for path-keyed routes, whatever the tenant', () => {
    expect(routingKey(HashKind.Path, 'acme', '/x', 'h')).toBe('/x');
  });

  it('is the header value, else the tenant, else the path, for header-keyed routes', () => {
    expect(routingKey(HashKind.Header, 'acme', '/x', 'session-1')).toBe('session-1');
    expect(routingKey(HashKind.Header, 'acme', '/x', '')).toBe('acme');
    expect(routingKey(HashKind.Header, '', '/x', '')).toBe('/x');
  });
});
