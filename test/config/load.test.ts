import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../../src/config/load.js';
import { ENV_VARS } from '../../src/config/schema.js';
import { envTable } from '../../src/cli.js';
import { writeConfig } from '../helpers/gateway-process.js';

const minimal = {
  routes: [{ prefix: '/', cluster: 'c' }],
  clusters: { c: { nodes: [{ id: 'n1', url: 'http://127.0.0.1:9001' }] } },
};

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config loading', () => {
  it('applies defaults and freezes the result', () => {
    const config = loadConfig({ GATEWAY_CONFIG: writeConfig(minimal) });
    expect(config.settings).toMatchObject({ port: 8080, adminPort: 9090, adminHost: '127.0.0.1', tenantHeader: 'x-tenant-id' });
    expect(config.routes[0]).toMatchObject({ requireTenant: true, hashOn: 'tenant' });
    expect(config.clusters.c!.nodes[0]).toMatchObject({ weight: 1, az: 'default' });
    // A scheme in capitals is the same scheme (RFC 3986): read as https: wherever tls is decided.
    const upper = loadConfig({ GATEWAY_CONFIG: writeConfig({ ...minimal, clusters: { c: { nodes: [{ id: 'n1', url: 'HTTPS://Node.Test:9001' }] } } }) });
    expect(upper.clusters.c!.nodes[0]!.url).toBe('https://Node.Test:9001');
    expect(Object.isFrozen(config.settings)).toBe(true);
    expect(Object.isFrozen(config.clusters.c!.nodes[0])).toBe(true);
  });

  it('lets env vars override the file', () => {
    const path = writeConfig({ ...minimal, gateway: { port: 7000, threads: 3 } });
    const config = loadConfig({ GATEWAY_CONFIG: path, GATEWAY_PORT: '7001', GATEWAY_TENANT_HEADER: 'X-Org' });
    expect(config.settings.port).toBe(7001);
    expect(config.settings.threads).toBe(3);
    expect(config.settings.tenantHeader).toBe('x-org');
  });

  it('takes listen hosts as IP addresses of either family or host names', () => {
    for (const [host, adminHost] of [['::', '::1'], ['localhost', 'gateway-admin.internal'], ['10.1.2.3', '127.0.0.1']]) {
      expect(loadConfig({ GATEWAY_CONFIG: writeConfig(minimal), GATEWAY_HOST: host, GATEWAY_ADMIN_HOST: adminHost }).settings).toMatchObject({ host, adminHost });
    }
    // One port for both on two addresses that are two sockets (localhost is 127.0.0.1 or ::1, not 127.0.0.2).
    for (const [host, adminHost] of [['127.0.0.1', '::1'], ['localhost', '127.0.0.2'], ['localhost', 'gateway-admin.internal']]) {
      const env = { GATEWAY_CONFIG: writeConfig(minimal), GATEWAY_HOST: host, GATEWAY_ADMIN_HOST: adminHost, GATEWAY_PORT: '9090' };
      expect(loadConfig(env).settings).toMatchObject({ host, adminHost, port: 9090, adminPort: 9090 });
    }
  });

  it('takes trusted proxies as addresses and ranges, IPv6 ones beside the IPv4-mapped space too', () => {
    const ranges = ['10.0.0.1', '10.0.0.0/8', 'fd00::/8', '2001:db8::/32', '::ffff:10.0.0.0/104', '::1'];
    expect(loadConfig({ GATEWAY_TRUSTED_PROXIES: ranges.join(','), GATEWAY_CONFIG: writeConfig(minimal) }).settings.trustedProxies).toEqual(ranges);
  });

  it('reads fractional settings from env vars', () => {
    const config = loadConfig({ GATEWAY_CONFIG: writeConfig(minimal), GATEWAY_BALANCE_FACTOR: '1.5', GATEWAY_HOT_SCORE: '.5' });
    expect(config.settings).toMatchObject({ balanceFactor: 1.5, hotScore: 0.5, routingMode: 'adaptive', decayMode: 'time' });
  });

  it('reads zone costs as zone=cost pairs from the env, or an object from the file', () => {
    expect(loadConfig({ GATEWAY_CONFIG: writeConfig(minimal), GATEWAY_ZONE_COSTS: 'us-east-1b=2,eu-west-1a=7.5' }).settings.zoneCosts).toEqual({
      'us-east-1b': 2,
      'eu-west-1a': 7.5,
    });
    expect(loadConfig({ GATEWAY_CONFIG: writeConfig({ ...minimal, gateway: { zoneCosts: { b: 3 } } }) }).settings.zoneCosts).toEqual({ b: 3 });
  });

  it('takes a rate limit by a header a compacting route reads anyway: listed, always forwarded, or what it hashes on', () => {
    const limitedBy = (header: string, hashOn: unknown = 'tenant') => ({ prefix: `/${header}/`, cluster: 'c', hashOn, forwardHeaders: ['x-api-key'], rateLimit: { requests: 5, by: { header } } });
    const file = { ...minimal, routes: [limitedBy('x-api-key'), limitedBy('host'), limitedBy('x-shard', { header: 'x-shard' })] };
    expect(loadConfig({ GATEWAY_CONFIG: writeConfig(file) }).routes.map((route) => route.rateLimit?.by)).toEqual([{ header: 'x-api-key' }, { header: 'host' }, { header: 'x-shard' }]);
  });

  it('takes a rate limit by a proxy\'s claim of the client once a proxy is trusted (copied from it; from anyone else, counted by address)', () => {
    const file = { ...minimal, routes: [{ prefix: '/', cluster: 'c', rateLimit: { requests: 5, by: { header: 'cf-connecting-ip' } } }] };
    expect(loadConfig({ GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8', GATEWAY_CONFIG: writeConfig(file) }).routes[0]!.rateLimit?.by).toEqual({ header: 'cf-connecting-ip' });
  });

  it('takes a rate limit by the tenant header on a compacting route: every route copies it, the file\'s or the env\'s', () => {
    const route = (header: string) => ({ prefix: '/', cluster: 'c', forwardHeaders: ['accept'], rateLimit: { requests: 5, by: { header } } });
    expect(loadConfig({ GATEWAY_CONFIG: writeConfig({ ...minimal, routes: [route('x-tenant-id')] }) }).routes[0]!.rateLimit?.by).toEqual({ header: 'x-tenant-id' });
    expect(loadConfig({ GATEWAY_CONFIG: writeConfig({ ...minimal, gateway: { tenantHeader: 'x-org' }, routes: [route('x-org')] }) }).routes[0]!.rateLimit?.by).toEqual({ header: 'x-org' });
    expect(loadConfig({ GATEWAY_TENANT_HEADER: 'x-org', GATEWAY_CONFIG: writeConfig({ ...minimal, routes: [route('x-org')] }) }).routes[0]!.rateLimit?.by).toEqual({ header: 'x-org' });
    // Another tenant header: the default's name is no longer copied.
    expect(() => loadConfig({ GATEWAY_TENANT_HEADER: 'x-org', GATEWAY_CONFIG: writeConfig({ ...minimal, routes: [route('x-tenant-id')] }) })).toThrow('routes[0].rateLimit.by.header = "x-tenant-id": is not among the route\'s forwardHeaders');
  });

  it('loads the default demo config when none is given', () => {
    const config = loadConfig({});
    expect(config.source).toBe(DEFAULT_CONFIG_PATH);
    expect(config.clusters.demo!.demoBackends).toHaveLength(3);
  });

  it.each([
    [{ GATEWAY_PORT: 'abc' }, minimal, 'GATEWAY_PORT = "abc"'],
    [{ GATEWAY_PORT: '70000' }, minimal, 'GATEWAY_PORT = 70000'],
    [{ GATEWAY_ALLOW_UWS_FALLBACK: 'yes' }, minimal, 'GATEWAY_ALLOW_UWS_FALLBACK = "yes"'],
    [{ GATEWAY_MAX_HEADER_BYTES: '100000' }, minimal, 'GATEWAY_MAX_HEADER_BYTES = 100000'],
    [{}, { ...minimal, routes: [{ prefix: '/', cluster: 'nope' }] }, 'routes[0].cluster = "nope": names no cluster'],
    [{}, { ...minimal, routes: [{ prefix: 'api', cluster: 'c' }] }, 'routes[0].prefix = "api"'],
    // A route naming what every object inherits once passed the check and threw at reload.
    [{}, { ...minimal, routes: [{ prefix: '/', cluster: 'toString' }] }, 'routes[0].cluster = "toString": names no cluster'],
    // zod's record would drop it without a word.
    [{}, { ...minimal, clusters: { ...minimal.clusters, ['__proto__']: { nodes: [] } } }, 'clusters.__proto__: is no name a cluster can have'],
    [{}, { ...minimal, routes: [{ cluster: 'c' }] }, 'routes[0]'],
    // Two spellings of one path are one entry of the route table: the later would take the earlier's requests.
    [{}, { ...minimal, routes: [{ exact: '/a/b', cluster: 'c' }, { exact: '/a\\b', cluster: 'c' }] }, 'routes[1] = {"exact":"/a\\\\b","cluster":"c"}: duplicate route exact:/a\\b: requests match it as exact:/a/b, as exact:/a/b'],
    [{}, { ...minimal, routes: [{ prefix: '/café/', cluster: 'c' }, { prefix: '/caf%c3%a9/', cluster: 'c' }] }, 'duplicate route prefix:/caf%c3%a9/: requests match it as prefix:/caf%C3%A9/, as prefix:/café/'],
    [{}, { ...minimal, routes: [{ prefix: '/', cluster: 'c' }, { prefix: '/\\', cluster: 'c' }] }, 'duplicate route prefix:/\\: requests match it as prefix:/, as prefix:/'],
    [{}, { ...minimal, routes: [{ prefix: '/x', cluster: 'c' }, { prefix: '/x', cluster: 'c' }] }, 'routes[1] = {"prefix":"/x","cluster":"c"}: duplicate route prefix:/x'],
    // A request path with "#" is refused: a route with one could never match.
    [{}, { ...minimal, routes: [{ exact: '/x#y', cluster: 'c' }] }, 'routes[0].exact = "/x#y": must hold no "#"'],
    [{}, { ...minimal, clusters: { c: { nodes: [{ id: 'n1', url: 'ftp://x' }] } } }, 'clusters.c.nodes[0].url = "ftp://x"'],
    [{}, { ...minimal, clusters: { c: { nodes: [{ id: 'n1', url: 'http://x:1/path' }] } } }, 'clusters.c.nodes[0].url = "http://x:1/path"'],
    [{}, { ...minimal, clusters: { c: { nodes: [{ id: 'n1', url: 'http://x:1', weight: 0 }] } } }, 'clusters.c.nodes[0].weight = 0'],
    [{}, { ...minimal, gateway: { threads: 0 } }, 'gateway.threads = 0'],
    // The node gets the gateway's value for it: a shared answer that varied on it would reach another client.
    [{}, { ...minimal, routes: [{ prefix: '/', cluster: 'c', multiplex: { vary: ['accept', 'X-Forwarded-For'] } }] }, 'routes[0].multiplex.vary[1] = "X-Forwarded-For": is set by the gateway for each request'],
    // Never copied from the request: the limit would count every request by its address instead.
    [{}, { ...minimal, routes: [{ prefix: '/', cluster: 'c', forwardHeaders: ['accept'], rateLimit: { requests: 5, by: { header: 'x-api-key' } } }] }, 'routes[0].rateLimit.by.header = "x-api-key": is not among the route\'s forwardHeaders'],
    [{}, { ...minimal, routes: [{ prefix: '/', cluster: 'c', rateLimit: { requests: 5, by: { header: 'X-Forwarded-For' } } }] }, 'routes[0].rateLimit.by.header = "X-Forwarded-For": is one the gateway reads apart or sets itself'],
    // Dropped from every request (hop-by-hop, or one a node could be misled by), listed or not.
    [{}, { ...minimal, routes: [{ prefix: '/', cluster: 'c', forwardHeaders: ['x-forwarded-host'], rateLimit: { requests: 5, by: { header: 'x-forwarded-host' } } }] }, 'routes[0].rateLimit.by.header = "x-forwarded-host": is one the gateway never forwards'],
    [{}, { ...minimal, routes: [{ prefix: '/', cluster: 'c', rateLimit: { requests: 5, by: { header: 'proxy-authorization' } } }] }, 'routes[0].rateLimit.by.header = "proxy-authorization": is one the gateway never forwards'],
    // A proxy's claim is copied only from a trusted proxy: with none, never.
    [{}, { ...minimal, routes: [{ prefix: '/', cluster: 'c', rateLimit: { requests: 5, by: { header: 'cf-connecting-ip' } } }] }, 'routes[0].rateLimit.by.header = "cf-connecting-ip": is forwarded only from a proxy in GATEWAY_TRUSTED_PROXIES'],
    [{ GATEWAY_BALANCE_FACTOR: '1,5' }, minimal, 'GATEWAY_BALANCE_FACTOR = "1,5": expected a number'],
    [{ GATEWAY_BALANCE_FACTOR: '0.9' }, minimal, 'GATEWAY_BALANCE_FACTOR = 0.9'],
    [{ GATEWAY_DECAY_MODE: 'wall' }, minimal, 'GATEWAY_DECAY_MODE = "wall"'],
    [{ GATEWAY_ROUTING_MODE: 'random' }, minimal, 'GATEWAY_ROUTING_MODE = "random"'],
    [{}, { ...minimal, extra: true }, 'extra = true: unknown key'],
    [{ GATEWAY_MAX_NODES: '0' }, minimal, 'GATEWAY_MAX_NODES = 0'],
    [{ GATEWAY_ACCEPTOR_OLD_GENERATION_FLOOR_MB: '-1' }, minimal, 'GATEWAY_ACCEPTOR_OLD_GENERATION_FLOOR_MB = -1'],
    [{}, { ...minimal, gateway: { maxNodes: 1 }, clusters: { c: { nodes: minimal.clusters.c.nodes, demoBackends: ['a'] } } }, 'gateway.maxNodes = 1: the config has 2 nodes'],
    [{ GATEWAY_MAX_NODES: '1' }, { ...minimal, clusters: { ...minimal.clusters, empty: { nodes: [] } } }, 'GATEWAY_MAX_NODES = 1: the config has 2 clusters'],
    // Each within its bounds, together a table no thread could view: refused before start, both named.
    [{ GATEWAY_IDEMPOTENCY_ENTRIES: '1000000', GATEWAY_IDEMPOTENCY_MAX_RESPONSE_BYTES: '1048576' }, minimal, 'GATEWAY_IDEMPOTENCY_ENTRIES = 1000000: with GATEWAY_IDEMPOTENCY_MAX_RESPONSE_BYTES = 1048576, its shared table would take'],
    [{ GATEWAY_MULTIPLEX_MAX_RESPONSE_BYTES: '16777216' }, { ...minimal, gateway: { multiplexEntries: 4096 } }, 'gateway.multiplexEntries = 4096: with GATEWAY_MULTIPLEX_MAX_RESPONSE_BYTES = 16777216'],
    [{}, { ...minimal, gateway: [{ port: 80 }] }, 'gateway = [{"port":80}]: expected an object'],
    [{ GATEWAY_PORT: '8080' }, { ...minimal, gateway: 'port=80' }, 'gateway = "port=80": expected an object'],
    [{ GATEWAY_ZONE_COSTS: 'b:3' }, minimal, 'GATEWAY_ZONE_COSTS = "b:3": expected name=number'],
    [{ GATEWAY_ZONE_COSTS: 'b=0.5' }, minimal, 'GATEWAY_ZONE_COSTS[b] = 0.5: Too small'],
    [{ GATEWAY_ZONE_COSTS: 'a=2,a=3' }, minimal, 'GATEWAY_ZONE_COSTS = "a=2,a=3": "a" given twice'],
    [{ GATEWAY_PORT: '9090' }, minimal, 'GATEWAY_PORT = 9090: the admin port too (gateway.adminPort)'],
    [{}, { ...minimal, gateway: { port: 7000, adminPort: 7000, adminHost: '127.0.0.1' } }, 'gateway.port = 7000: the admin port too (gateway.adminPort)'],
    // Loopback spelt two ways is one address: localhost resolves to 127.0.0.1 or ::1, whichever comes first.
    [{ GATEWAY_HOST: 'localhost', GATEWAY_PORT: '9090' }, minimal, 'GATEWAY_PORT = 9090: the admin port too (gateway.adminPort), and GATEWAY_HOST = "localhost" and gateway.adminHost = "127.0.0.1" may bind one address'],
    [{ GATEWAY_HOST: '::1', GATEWAY_ADMIN_HOST: 'localhost', GATEWAY_PORT: '9090' }, minimal, 'GATEWAY_PORT = 9090: the admin port too (gateway.adminPort), and GATEWAY_HOST = "::1" and GATEWAY_ADMIN_HOST = "localhost"'],
    [{ GATEWAY_HOST: 'LocalHost', GATEWAY_ADMIN_HOST: 'localhost', GATEWAY_PORT: '9090' }, minimal, 'GATEWAY_PORT = 9090: the admin port too'],
    [{ GATEWAY_HOST: '0:0:0:0:0:0:0:1', GATEWAY_ADMIN_HOST: '::1', GATEWAY_PORT: '9090' }, minimal, 'GATEWAY_PORT = 9090: the admin port too'],
    [{ GATEWAY_HOST: '::ffff:127.0.0.1', GATEWAY_PORT: '9090' }, minimal, 'GATEWAY_PORT = 9090: the admin port too'],
    [{ GATEWAY_HOST: '0.0.0.0:8080' }, minimal, 'GATEWAY_HOST = "0.0.0.0:8080": must be an IP address (0.0.0.0, ::, 127.0.0.1) or a host name'],
    [{ GATEWAY_HOST: '999.1.1.1' }, minimal, 'GATEWAY_HOST = "999.1.1.1": must be an IP address'],
    [{}, { ...minimal, gateway: { adminHost: '[::1]' } }, 'gateway.adminHost = "[::1]": must be an IP address'],
    [{ GATEWAY_ADMIN_TOKEN: 'short' }, minimal, 'GATEWAY_ADMIN_TOKEN = "*** (5 characters)": must be at least 16 characters'],
    // An Authorization header's value loses its outer spaces: such a token could never be matched.
    [{ GATEWAY_ADMIN_TOKEN: '0123456789abcdef ' }, minimal, 'GATEWAY_ADMIN_TOKEN = "*** (17 characters)": must be visible ASCII'],
    [{}, { ...minimal, gateway: { adminToken: '0123456789abcdef\n' } }, 'gateway.adminToken = "*** (17 characters)": must be visible ASCII'],
    [{}, { ...minimal, clusters: { c: { nodes: [], healthCheck: { path: '/h', intervalMs: 1000, timeoutMs: 1000 } } } }, 'clusters.c.healthCheck.timeoutMs = 1000: timeoutMs must be below intervalMs'],
    [{ GATEWAY_TRUSTED_PROXIES: '10.0.0.1, 10.0.0.0/33' }, minimal, 'GATEWAY_TRUSTED_PROXIES = "10.0.0.0/33": must be an IP address or a CIDR range'],
    [{}, { ...minimal, clusters: { c: { nodes: [], breaker: { threshold: 0.4 } } } }, 'clusters.c.breaker.threshold = 0.4: must be above 0.4'],
    [{ GATEWAY_TRUSTED_PROXIES: '::ffff:10.0.0.0/8' }, minimal, 'GATEWAY_TRUSTED_PROXIES = "::ffff:10.0.0.0/8": must be an IP address or a CIDR range'],
    [{ GATEWAY_TRUSTED_PROXIES: '::/0' }, minimal, 'GATEWAY_TRUSTED_PROXIES = "::/0": must be an IP address or a CIDR range'],
    [{ GATEWAY_TRUSTED_PROXIES: '0:0:0:0:0:ffff:0:0/80' }, minimal, 'GATEWAY_TRUSTED_PROXIES = "0:0:0:0:0:ffff:0:0/80": must be an IP address or a CIDR range'],
    [{ GATEWAY_TRUSTED_PROXIES: 'proxy.local' }, minimal, 'GATEWAY_TRUSTED_PROXIES = "proxy.local": must be an IP address or a CIDR range'],
    // Compared as they are: a blank around a zone would make every node another zone's.
    [{ GATEWAY_ZONE: 'us-east-1a ' }, minimal, 'GATEWAY_ZONE = "us-east-1a ": must not begin or end with whitespace'],
    [{}, { ...minimal, clusters: { c: { nodes: [{ id: 'n', url: 'http://127.0.0.1:1', az: ' b' }] } } }, 'clusters.c.nodes[0].az = " b": must not begin or end with whitespace'],
    [{ GATEWAY_RATE_LIMIT_MODE: 'redis' }, minimal, 'GATEWAY_REDIS_URL (gateway.redisUrl) = missing: GATEWAY_RATE_LIMIT_MODE is "redis"'],
    [{}, { ...minimal, gateway: { sharedState: 'redis' } }, 'GATEWAY_REDIS_URL (gateway.redisUrl) = missing: gateway.sharedState is "redis"'],
    [{ GATEWAY_RATE_LIMIT_MODE: 'cluster' }, minimal, 'GATEWAY_RATE_LIMIT_MODE = "cluster"'],
    [{ GATEWAY_REDIS_URL: 'http://127.0.0.1:6379' }, minimal, 'GATEWAY_REDIS_URL = "http://127.0.0.1:6379": must be a redis:// or rediss:// URL'],
    // The password is not shown.
    [{ GATEWAY_REDIS_URL: 'http://app:s3cret@r:6379' }, minimal, 'GATEWAY_REDIS_URL = "http://app:***@r:6379": must be a redis:// or rediss:// URL'],
    // A "/" in a password (base64 keys) makes the URL unparsable: the password is still not shown.
    [{ GATEWAY_REDIS_URL: 'redis://default:ab/cd@redis:6379' }, minimal, 'GATEWAY_REDIS_URL = "redis://default:***@redis:6379"'],
    [{ GATEWAY_REDIS_URL: 'redis+sentinel://u:pw@h' }, minimal, 'GATEWAY_REDIS_URL = "redis+sentinel://u:***@h"'],
    [{ GATEWAY_REDIS_URL: 'default:s3cret@redis:6379' }, minimal, 'GATEWAY_REDIS_URL = "default:***@redis:6379"'],
    [{ GATEWAY_REDIS_URL: 'http://r:6379/?password=s3cret&sentinelPassword=s4' }, minimal, 'GATEWAY_REDIS_URL = "http://r:6379/?password=***&sentinelPassword=***"'],
    [{ GATEWAY_REDIS_URL: 'rediss://r:6379', GATEWAY_REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, minimal, 'GATEWAY_REDIS_TLS_CA_FILE = "/nonexistent/ca.pem": ENOENT'],
    [{ GATEWAY_REDIS_URL: 'redis://r:6379', GATEWAY_REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' }, minimal, 'GATEWAY_REDIS_TLS_CA_FILE = "/nonexistent/ca.pem": needs a rediss:// GATEWAY_REDIS_URL (TLS)'],
  ])('names the field and value: %j', (env, file, expected) => {
    expect(errorOf(() => loadConfig({ ...env, GATEWAY_CONFIG: writeConfig(file) }))).toContain(expected);
  });

  it('reports an unreadable or non-JSON file with its path', () => {
    expect(errorOf(() => loadConfig({ GATEWAY_CONFIG: '/nonexistent/ringgate.json' }))).toContain('GATEWAY_CONFIG: cannot read "/nonexistent/ringgate.json"');
    const path = writeConfig(null);
    writeFileSync(path, '{ "routes": [');
    expect(errorOf(() => loadConfig({ GATEWAY_CONFIG: path }))).toContain(`GATEWAY_CONFIG: ${JSON.stringify(path)} is not valid JSON`);
    // Where, but not the text around the fault: V8 quotes it, and it may be a secret left unquoted.
    writeFileSync(path, '{\n  "gateway": { "adminToken": supersecret-admin-token-1 }\n}');
    const unquoted = errorOf(() => loadConfig({ GATEWAY_CONFIG: path }));
    expect(unquoted).toContain('is not valid JSON: Unexpected token near line 2, column 30');
    expect(unquoted).not.toContain('supersecre');
    writeFileSync(path, '{ "routes": [],\n  "gateway": { "redisUrl": "redis://u:s3cret@h:1", } }');
    expect(errorOf(() => loadConfig({ GATEWAY_CONFIG: path }))).toMatch(/is not valid JSON: Expected double-quoted property name at line 2, column \d+$/);
  });

  it('documents every env var in the README table, with the schema\'s default and the meaning --help prints, and no stale one', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(GATEWAY_[A-Z0-9_]+)` \| (.*?) \| (.*) \|$/gm)].map(([, name, defaultText, meaning]) => ({ name, defaultText, meaning }));
    expect(rows).toEqual(envTable());
    expect(rows.map((r) => r.name).sort()).toEqual([...Object.keys(ENV_VARS), 'GATEWAY_CONFIG'].sort());
  });

  it('lists every error at once: a bad env var does not hide the file\'s', () => {
    const message = errorOf(() => loadConfig({ GATEWAY_PORT: 'abc', GATEWAY_DRAIN_MS: 'soon', GATEWAY_CONFIG: writeConfig({ ...minimal, gateway: { threads: 0 } }) }));
    expect(message).toContain('GATEWAY_PORT = "abc": expected a whole number');
    expect(message).toContain('GATEWAY_DRAIN_MS = "soon": expected a whole number');
    expect(message).toContain('gateway.threads = 0');
  });
});

describe('config errors a reload meets', () => {
  it('reports an unparsable node url as a field error, not a TypeError', () => {
    for (const url of ['http//10.0.0.5:8080', 'not a url', 'http://[::1']) {
      const path = writeConfig({ ...minimal, clusters: { c: { nodes: [{ id: 'n1', url }] } } });
      expect(errorOf(() => loadConfig({ GATEWAY_CONFIG: path }))).toContain(`clusters.c.nodes[0].url = ${JSON.stringify(url)}`);
    }
  });

  it('names an unknown key without dumping the object around it, or its secrets', () => {
    const path = writeConfig({ ...minimal, gateway: { prot: 8080 }, route: [] });
    const message = errorOf(() =>
      loadConfig({ GATEWAY_CONFIG: path, GATEWAY_ADMIN_TOKEN: 'supersecret-admin-token', GATEWAY_REDIS_URL: 'redis://u:S3CRET@h:1' }),
    );
    expect(message).toContain('gateway.prot = 8080: unknown key');
    expect(message).toContain('route = []: unknown key');
    expect(message).not.toContain('supersecret');
    expect(message).not.toContain('S3CRET');
  });

  it('refuses a key given twice in one object, which JSON.parse would keep only the last of', () => {
    const fileWith = (written: string): string => {
      const path = writeConfig({});
      writeFileSync(path, written);
      return path;
    };
    const node = (id: string) => `{"nodes": [{"id": "${id}", "url": "http://127.0.0.1:1"}]}`;
    const twoClusters = `{"routes": [{"prefix": "/", "cluster": "api"}], "clusters": {"api": ${node('a1')}, "api": ${node('a2')}}}`;
    expect(errorOf(() => loadConfig({ GATEWAY_CONFIG: fileWith(twoClusters) }))).toContain('clusters.api: given twice in one object');
    const twoPrefixes = `{"routes": [{"prefix": "/", "cluster": "api"}, {"prefix": "/b/", "prefix": "/c/", "cluster": "api"}], "clusters": {"api": ${node('a1')}}}`;
    expect(errorOf(() => loadConfig({ GATEWAY_CONFIG: fileWith(twoPrefixes) }))).toContain('routes[1].prefix: given twice in one object');
    // The same key in two objects, and quotes, colons and commas inside strings, are no duplicates.
    const fine = `{"routes": [{"prefix": "/a\\"b,c:/", "cluster": "api"}, {"prefix": "/", "cluster": "api"}], "clusters": {"api": ${node('a1')}}}`;
    expect(loadConfig({ GATEWAY_CONFIG: fileWith(fine) }).routes).toHaveLength(2);
  });

  it('names a setting the file no longer sets among those awaiting a restart', async () => {
    const { reloadedConfig } = await import('../../src/config/load.js');
    const running = loadConfig({ GATEWAY_CONFIG: writeConfig({ ...minimal, gateway: { zone: 'a', adminToken: '0123456789abcdef' } }) });
    const next = loadConfig({ GATEWAY_CONFIG: writeConfig(minimal) });
    expect(reloadedConfig(next, running).needRestart.sort()).toEqual(['adminToken', 'zone']);
  });
});
