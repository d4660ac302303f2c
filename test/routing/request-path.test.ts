import { describe, expect, it } from 'vitest';
import { normalizePath, routingPath } from '../../src/routing/request-path.js';

describe('path normalization (RFC 3986 §5.2.4)', () => {
  it.each([
    ['/', '/'],
    ['/api/v1/file.json', '/api/v1/file.json'],
    ['/a/.hidden/..x/x..', '/a/.hidden/..x/x..'],
    ['/%41/b%2Fc', '/%41/b%2Fc'],
    ['/double//slashes', '/double//slashes'],
    // A leading run is one slash: `//host/x` is scheme-relative to a backend parsing URLs.
    ['//double//slashes', '/double//slashes'],
    ['///public/api/x', '/public/api/x'],
    ['/\\public/api/x', '/public/api/x'],
    ['/\\/\\public/../api/x', '/api/x'],
    ['//', '/'],
    // Dot segments removed first may leave such a run: it is one slash too.
    ['/.//public/api/x', '/public/api/x'],
    ['/%2e//public/api/x', '/public/api/x'],
    ['/a/..//public/api/x', '/public/api/x'],
    ['/./\\public/api', '/public/api'],
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
    ['/projects/group%2Fname/issues', '/projects/group%2Fname/issues'],
    ['/a/x%5Cy', '/a/x%5Cy'],
    ['/a/b%2F.c', '/a/b%2F.c'],
    ['/caf%C3%A9/./menu', '/caf%C3%A9/menu'],
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

  it.each(['/static/..%2fapi/x', '/static/..%2Fapi', '/static/x%2f..%2f..%2fapi', '/static/..%5Capi', '/static\\..\\api', '/a/%2e%2e%2fb', '/a/.%2f', '/static/..;/api/x', '/a/.;x/b', '/static/%2e%2e;jsessionid=1/api'])(
    'refuses %j: it hides a dot segment behind an encoded slash, a backslash or path parameters',
    (path) => {
      expect(normalizePath(path)).toBeNull();
    },
  );

  // A fragment is never sent in a request target (RFC 9112 §3.2): a node parsing the target as a URL
  // (WHATWG URL, url.parse, nginx) ends the path at "#", so `/api/login#` is `/api/login` to it.
  it.each(['/api/login#', '/admin#x', '/a#/../b', '/a/b#c/d', '#'])('refuses %j: a "#" ends the path where a backend reads it', (path) => {
    expect(normalizePath(path)).toBeNull();
  });

  // The node gets the client's spelling; routes match one form for all the spellings backends read alike.
  it.each([
    ['/api/x', '/api/x'],
    ['/%61pi/x', '/api/x'],
    ['/%41/b%2fc%3a', '/A/b%2Fc%3A'],
    ['/a/%7Euser', '/a/~user'],
    ['//api//x', '/api/x'],
    ['//api/x/', '/api/x/'],
    ['/caf%c3%a9/', '/caf%C3%A9/'],
    // WHATWG URL percent-encodes characters past ASCII as UTF-8, and reads a backslash as "/".
    ['/café/', '/caf%C3%A9/'],
    ['/caf%C3%A9/é', '/caf%C3%A9/%C3%A9'],
    ['/\u{1F600}/x', '/%F0%9F%98%80/x'],
    ['/admin\\x', '/admin/x'],
    ['/\\admin\\\\x', '/admin/x'],
  ])('routes %s as %s', (path, routed) => {
    expect(routingPath(path)).toBe(routed);
  });
});
