import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { startBackend, type Backend } from '../helpers/backends.js';
import { writeFileSync } from 'node:fs';
import { metricValue, startGateway, writeConfig, type GatewayProcess } from '../helpers/gateway-process.js';
import { decidedWithin, type Stamped } from '../helpers/decided-within.js';
import { expectError, pooled, send, type Reply } from '../helpers/http.js';
import { jsonBodies, rawExchange, statuses } from '../helpers/raw-http.js';
import { forgeXxh64 } from '../helpers/xxh64-forgery.js';

let backend: Backend;
let gateway: GatewayProcess;

beforeAll(async () => {
  backend = await startBackend('r0', (req, res, id) => {
    req.resume();
    // A node with a limit of its own says so too.
    const own = req.url!.includes('/own-limit') ? { 'ratelimit-limit': '1000', 'ratelimit-remaining': '999', 'x-own': '1' } : {};
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', ...own }).end(JSON.stringify({ backend: id })));
  });
  gateway = await startGateway(
    {
      routes: [
        { prefix: '/limited/', cluster: 'c', rateLimit: { requests: 100, windowMs: 1000 } },
        { prefix: '/by-key/', cluster: 'c', rateLimit: { requests: 2, windowMs: 60_000, by: { header: 'x-api-key' } } },
        { prefix: '/by-address/', cluster: 'c', rateLimit: { requests: 2, windowMs: 60_000, by: 'address' } },
        { prefix: '/by-real-ip/', cluster: 'c', rateLimit: { requests: 1, windowMs: 60_000, by: { header: 'x-real-ip' } } },
        { prefix: '/once/', cluster: 'c', rateLimit: { requests: 1, windowMs: 60_000 } },
        { prefix: '/once-more/', cluster: 'c', rateLimit: { requests: 1, windowMs: 60_000 } },
        { prefix: '/free/', cluster: 'c' },
      ],
      clusters: { c: { nodes: [{ id: 'r0', url: backend.url }] } },
    },
    // Eight buckets of 8: a few hundred tenants are enough to make the table give up old keys. No
    // access log: a line per refused request is thousands of lines for this process to parse while
    // its loops stamp the answers the per-second counts rest on.
    { GATEWAY_THREADS: '2', GATEWAY_RATE_LIMIT_KEYS: '64', GATEWAY_ACCESS_LOG: 'off', GATEWAY_TRUSTED_PROXIES: '127.0.0.1' },
  );
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await backend.close();
});

describe('rate limiting, local mode', () => {
  it('holds 100 requests per second for a tenant across 2 threads and 64 connections, and no other tenant pays for it', async () => {
    // Start on a second boundary: the gateway's windows are wall-clock seconds.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
    const start = Date.now();
    const allowed: Stamped[] = [];
    const refused: Reply[] = [];
    const otherTenant: number[] = [];
    const loop = async (): Promise<void> => {
      while (Date.now() - start < 3500) {
        const sentAt = Date.now();
        const reply = await send(gateway.port, '/limited/x', { tenant: 'busy' });
        if (reply.status === 200) allowed.push([sentAt, Date.now()]);
        else refused.push(reply);
      }
    };
    const bystander = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) otherTenant.push((await send(gateway.port, '/limited/x', { tenant: 'quiet' })).status);
    };
    await Promise.all([...Array.from({ length: 64 }, loop), bystander()]);
    // Seconds 1 and 2 are whole windows after the first: the sliding window lets 100 through in each.
    // Those surely decided in them are at most 210, those that may have been at least 190.
    const second1 = start - (start % 1000) + 1000;
    const { surely, maybe } = decidedWithin(allowed, second1, second1 + 2000);
    expect(surely).toBeLessThanOrEqual(210);
    expect(maybe).toBeGreaterThanOrEqual(190);
    expect(refused.length).toBeGreaterThan(100);
    expectError(refused[0]!, 'ERR_RATE_LIMITED');
    expect(refused[0]!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(refused[0]!.headers['ratelimit-limit']).toBe('100');
    expect(refused[0]!.headers['ratelimit-remaining']).toBe('0');
    expect(otherTenant).toEqual(otherTenant.map(() => 200));
    expect(metricValue(await gateway.metrics(), 'ringgate_rate_limited_total', 'route="prefix:/limited/"')).toBe(refused.length);
  }, 20_000);

  it('tells allowed answers what is left, counts by a header when asked, and leaves routes without a limit alone', async () => {
    const first = await send(gateway.port, '/by-key/x', { tenant: 't', headers: { 'x-api-key': 'k1' } });
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-limit']).toBe('2');
    expect(first.headers['ratelimit-remaining']).toBe('1');
    expect(Number(first.headers['ratelimit-reset'])).toBeGreaterThan(0);
    expect((await send(gateway.port, '/by-key/x', { tenant: 'other', headers: { 'x-api-key': 'k1' } })).status).toBe(200);
    expectError(await send(gateway.port, '/by-key/x', { tenant: 't', headers: { 'x-api-key': 'k1' } }), 'ERR_RATE_LIMITED');
    expect((await send(gateway.port, '/by-key/x', { tenant: 't', headers: { 'x-api-key': 'k2' } })).status).toBe(200);
    // A fresh value in front of the spent one: counted by the first, the node would see both.
    const { text } = await rawExchange(gateway.port, 'GET /by-key/x HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t\r\nX-Api-Key: fresh\r\nX-Api-Key: k1\r\nConnection: close\r\n\r\n', 3_000);
    expectError({ status: statuses(text)[0] ?? 0, text: JSON.stringify(jsonBodies(text)[0] ?? {}) }, 'ERR_LIMIT_HEADER_REPEATED');
    const free = await send(gateway.port, '/free/x', { tenant: 't' });
    expect(free.status).toBe(200);
    expect(free.headers['ratelimit-limit']).toBeUndefined();
    // A node's own RateLimit headers: the client of a limited route gets the gateway's alone; on a route without one, the node's pass.
    const limited = await send(gateway.port, '/by-key/own-limit', { tenant: 't', headers: { 'x-api-key': 'k-own' } });
    expect({ limit: limited.headers['ratelimit-limit'], remaining: limited.headers['ratelimit-remaining'], own: limited.headers['x-own'] }).toEqual({ limit: '2', remaining: '1', own: '1' });
    const unlimited = await send(gateway.port, '/free/own-limit', { tenant: 't' });
    expect(unlimited.headers['ratelimit-remaining']).toBe('999');
  });

  it("counts a tenant on each of its limited routes apart, and each tenant apart", async () => {
    const on = async (prefix: string, tenant: string) => (await send(gateway.port, `${prefix}x`, { tenant })).status;
    expect([await on('/once/', 'solo'), await on('/once-more/', 'solo'), await on('/once/', 'duo')]).toEqual([200, 200, 200]);
    expect([await on('/once/', 'solo'), await on('/once-more/', 'solo'), await on('/once/', 'duo')]).toEqual([429, 429, 429]);
    expect(await on('/once-more/', 'duo')).toBe(200);
  });

  it("gives a tenant id forged to meet another's unseeded xxHash64 a count of its own", async () => {
    const forged = forgeXxh64('', (await xxhash()).h64('victim', 0n));
    const on = async (tenant: string) => (await send(gateway.port, '/once/x', { tenant })).status;
    expect([await on(forged), await on('victim'), await on(forged)]).toEqual([200, 200, 429]);
  });

  it('gives up the least recently used keys beyond GATEWAY_RATE_LIMIT_KEYS, and counts it', async () => {
    const replies = await pooled(16, Array.from({ length: 300 }, (_, i) => () => send(gateway.port, '/limited/x', { tenant: `many-${i}` })));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    expect(metricValue(await gateway.metrics(), 'ringgate_rate_limit_evictions_total')).toBeGreaterThanOrEqual(300 - 64);
  });

  it('counts by the X-Real-IP a trusted proxy set, as by any header', async () => {
    const from = (realIp: string) => send(gateway.port, '/by-real-ip/x', { tenant: 't', headers: { 'x-real-ip': realIp } });
    expect((await from('198.51.100.7')).status).toBe(200);
    expectError(await from('198.51.100.7'), 'ERR_RATE_LIMITED');
    expect((await from('198.51.100.8')).status).toBe(200);
  });

  it("counts by the address a trusted proxy forwarded, an IPv6 client by its /64", async () => {
    const from = (forwardedFor: string) => send(gateway.port, '/by-address/x', { tenant: 't', headers: { 'x-forwarded-for': forwardedFor } });
    expect((await from('198.51.100.4')).status).toBe(200);
    expect((await from('192.0.2.1, 198.51.100.4')).status).toBe(200);
    expectError(await from('198.51.100.4'), 'ERR_RATE_LIMITED');
    expect((await from('198.51.100.5')).status).toBe(200);
    // Two addresses of one /64: one host may take any of them.
    expect((await from('2001:db8:1:2::a')).status).toBe(200);
    expect((await from('2001:db8:1:2::b')).status).toBe(200);
    expectError(await from('2001:db8:1:2:ffff::c'), 'ERR_RATE_LIMITED');
    expect((await from('2001:db8:1:3::a')).status).toBe(200);
  });
});

describe('rate limiting after a reload and a thread restart', () => {
  it("keeps one count per route for the process, though a restarted thread numbers the reloaded routes anew", async () => {
    const limited = (prefix: string) => ({ prefix, cluster: 'c', requireTenant: false, rateLimit: { requests: 5, windowMs: 600_000, by: 'route' } });
    const config = (routes: unknown[]) => ({ routes: [...routes, { prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'r0', url: backend.url }] } } });
    const configPath = writeConfig(config([limited('/a/')]));
    const restarted = await startGateway(null, { GATEWAY_CONFIG: configPath, GATEWAY_THREADS: '2', GATEWAY_FAULT_INJECTION: '1' });
    try {
      // A route before it: the running threads add it after theirs, a thread started now puts it first.
      writeFileSync(configPath, JSON.stringify(config([limited('/b/'), limited('/a/')])));
      expect((await fetch(`http://127.0.0.1:${restarted.adminPort}/v1/reload`, { method: 'POST' })).status).toBe(200);
      const restarts = async () => metricValue(await restarted.metrics(), 'ringgate_thread_restarts_total');
      expect(await send(restarted.port, '/_ringgate/fault/crash-thread/x').catch((err: Error) => err)).toBeInstanceOf(Error);
      await expect.poll(restarts, { timeout: 10_000 }).toBe(1);
      await expect.poll(async () => metricValue(await restarted.metrics(), 'ringgate_threads_running'), { timeout: 10_000 }).toBe(2);
      // On new connections: the kernel spreads them over both threads.
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await send(restarted.port, `/a/${i}`)).status, (await send(restarted.port, `/b/${i}`)).status);
      expect(statuses.filter((status, i) => i % 2 === 0 && status === 200)).toHaveLength(5);
      expect(statuses.filter((status, i) => i % 2 === 1 && status === 200)).toHaveLength(5);
    } finally {
      expect(await restarted.stop()).toBe(0);
    }
  });
});
