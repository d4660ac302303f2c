import { describe, expect, it } from 'vitest';
import type { RouteConfig } from '../../src/config/schema.js';
import type { NameSet } from '../../src/name-set.js';
import { compileRoutes, HashKind, matchRoute } from '../../src/routing/route-table.js';
import { routingPath } from '../../src/routing/request-path.js';

const route = (r: Partial<RouteConfig>): RouteConfig => ({ cluster: 'c', requireTenant: true, hashOn: 'tenant', multiplex: false, ...r }) as RouteConfig;

describe('route table', () => {
  const table = compileRoutes([
    route({ prefix: '/', cluster: 'root' }),
    route({ prefix: '/api', cluster: 'api' }),
    route({ prefix: '/api/v2/', cluster: 'v2' }),
    route({ exact: '/api/v2/status', cluster: 'status', requireTenant: false }),
    route({ prefix: '/s/', cluster: 'sticky', hashOn: { header: 'x-session' } }),
  ]);

  it.each([
    ['/', 'root'],
    ['/other', 'root'],
    ['/api', 'api'],
    ['/apix', 'api'],
    ['/api/v1/x', 'api'],
    ['/api/v2/', 'v2'],
    ['/api/v2/users', 'v2'],
    ['/api/v2/status', 'status'],
    ['/api/v2/status/x', 'v2'],
  ])('%s → %s (exact beats prefix, longest prefix wins)', (path, cluster) => {
    expect(matchRoute(table, path)?.cluster).toBe(cluster);
  });

  it('answers nothing when no prefix covers the path', () => {
    const narrow = compileRoutes([route({ prefix: '/api/' })]);
    expect(matchRoute(narrow, '/web')).toBeUndefined();
    expect(matchRoute(narrow, '/api')).toBeUndefined();
  });

  it('keeps per-route options and config position', () => {
    const status = matchRoute(table, '/api/v2/status')!;
    expect(status).toMatchObject({ index: 3, label: 'exact:/api/v2/status', requireTenant: false, hashKind: HashKind.Tenant });
    expect(matchRoute(table, '/s/1')).toMatchObject({ hashKind: HashKind.Header, hashHeader: 'x-session' });
  });

  it('matches a route written with percent-encodings or doubled slashes as requests are matched: in one form', () => {
    const encoded = compileRoutes([route({ prefix: '/caf%c3%a9/' }), route({ exact: '/%7Euser//profile' })]);
    expect(matchRoute(encoded, routingPath('/caf%C3%A9/menu'))?.index).toBe(0);
    expect(matchRoute(encoded, routingPath('/caf%c3%a9/menu'))?.index).toBe(0);
    expect(matchRoute(encoded, routingPath('/~user/profile'))?.index).toBe(1);
  });

  it('matches a path past ASCII in one form, raw or percent-encoded, as WHATWG URL reads it', () => {
    const table = compileRoutes([route({ prefix: '/' }), route({ prefix: '/café/' }), route({ prefix: '/enc%c3%a9/' })]);
    expect(matchRoute(table, routingPath('/café/x'))?.index).toBe(1);
    expect(matchRoute(table, routingPath('/caf%C3%A9/x'))?.index).toBe(1);
    expect(matchRoute(table, routingPath('/caf%c3%a9/x'))?.index).toBe(1);
    expect(matchRoute(table, routingPath('/encé/x'))?.index).toBe(2);
    expect(matchRoute(table, routingPath('/enc%C3%A9/x'))?.index).toBe(2);
  });

  it('matches a backslash as a slash, as WHATWG URL reads it', () => {
    const table = compileRoutes([route({ prefix: '/' }), route({ prefix: '/admin/' })]);
    expect(matchRoute(table, routingPath('/admin\\secret'))?.index).toBe(1);
    expect(matchRoute(table, routingPath('/\\admin\\secret'))?.index).toBe(1);
  });

  it("compiles multiplexing into its vary set: the defaults, a route's own list, or none", () => {
    const [on, own, off] = compileRoutes([route({ prefix: '/a/', multiplex: true }), route({ prefix: '/b/', multiplex: { vary: ['x-user'], holdMs: 0 } }), route({ prefix: '/c/' })]).routes;
    const varies = (names: string[], vary: NameSet) => names.filter((name) => vary.has(name));
    const asked = ['authorization', 'cookie', 'accept', 'accept-encoding', 'accept-language', 'x-user', 'accept-charset'];
    expect(varies(asked, on!.multiplexVary!)).toEqual(['authorization', 'cookie', 'accept', 'accept-encoding', 'accept-language']);
    expect(varies(asked, own!.multiplexVary!)).toEqual(['x-user']);
    expect(off!.multiplexVary).toBeNull();
  });
});
