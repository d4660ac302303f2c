import { describe, expect, it } from 'vitest';
import { isValidTenantId, MAX_TENANT_ID_BYTES } from '../../src/routing/tenant-id.js';

describe('tenant id', () => {
  it.each(['acme', 'a', 'ACME-corp_1.eu:prod', '0', 'x'.repeat(MAX_TENANT_ID_BYTES)])('accepts %s', (id) => {
    expect(isValidTenantId(id)).toBe(true);
  });
  it.each(['', 'x'.repeat(MAX_TENANT_ID_BYTES + 1), 'has space', 'semi;colon', 'slash/', 'ünïcode', 'tab\t', 'a,b', 'emoji😀'])(
    'rejects %j',
    (id) => {
      expect(isValidTenantId(id)).toBe(false);
    },
  );
});
