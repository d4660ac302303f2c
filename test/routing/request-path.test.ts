import { describe, expect, it } from 'vitest';
import { normalizePath } from '../../src/routing/request-path.js';

describe('path normalization (RFC 3986 §5.2.4)', () => {
  it.each([
    ['/', '/'],
    ['/api/v1/file.json', '/api/v1/file.json'],
    ['/a/.hidden/..x/x..', '/a/.hidden/..x/x..'],
    ['/%41/b%2Fc', '/%41/b%2Fc'],
    ['//double//slashes', '//double//slashes'],
    ['/static/../api/x', '/api/x'],
    ['/a/b/c/./../../g', '/a/g'],
    ['/a/./b', '/a/b'],
    ['/a/b/.', '/a/b/'],
    ['/a/b/..', '/a/'],
    ['/a/..', '/'],
    ['/.', '/'],
    ['/a//../b', '/a/b'],
    ['/static/%2e%2e/api/x', '/api/x'],
    ['/static/%2E%2E/api/x', '/api/x'],
    ['/static/.%2e/api/x', '/api/x'],
    ['/static/%2e./api/x', '/api/x'],
    ['/a/%2e/b', '/a/b'],
    ['/a/%2e%2e%2e/b', '/a/%2e%2e%2e/b'],
    ['/a/.../b', '/a/.../b'],
  ])('%s → %s', (path, normalized) => {
    expect(normalizePath(path)).toBe(normalized);
  });

  it('returns the very same string when there is nothing to remove', () => {
    const path = '/api/v1/tenants/acme/items.json';
    expect(normalizePath(path)).toBe(path);
  });

  it.each(['/..', '/../x', '/a/../..', '/a/../../etc/passwd', '/%2e%2e/x', '/a/%2E%2e/.%2e', '*', 'http://host/x', '', 'relative/x'])(
    'refuses %j: it climbs above the root or is no path',
    (path) => {
      expect(normalizePath(path)).toBeNull();
    },
  );
});
