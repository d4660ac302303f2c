import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminRoutes, type AdminServer } from '../../src/coordinator/admin-server.js';
import { METRICS_MIN_GAP_MS } from '../../src/coordinator/coalesced.js';
import { stubAdminRoutes } from '../helpers/admin-routes.js';
import { expectError, send } from '../helpers/http.js';

const TOKEN = 'test-admin-token-0123456789';

/** Routes whose /metrics takes `ms` and answers how many collections had begun when it began. */
function slowMetrics(ms: number): AdminRoutes & { collections: number } {
  const routes = {
    ...stubAdminRoutes(),
    collections: 0,
    metrics: async () => {
      const n = ++routes.collections;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { contentType: 'text/plain', body: String(n) };
    },
  };
  return routes;
}

let server: AdminServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const silent = pino({ level: 'silent' });

describe('reads from another site on a loopback admin server', () => {
  it('refuses a cross-site or same-site GET (no Origin, but Sec-Fetch-Site says so) before collecting anything', async () => {
    const routes = slowMetrics(0);
    server = await startAdminServer('127.0.0.1', 0, routes, { token: undefined, loopback: true }, silent);
    const host = `127.0.0.1:${server.port}`;
    // What Chromium sends for <img src> or fetch(url, {mode: 'no-cors'}) from http://localhost:8000/ and http://127.0.0.1:8000/.
    for (const site of ['cross-site', 'same-site']) {
      expectError(await send(server.port, '/metrics', { headers: { host, 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors' } }), 'ERR_ADMIN_FORBIDDEN');
      expectError(await send(server.port, '/v1/dashboard', { headers: { host, 'sec-fetch-site': site } }), 'ERR_ADMIN_FORBIDDEN');
    }
    expect(routes.collections).toBe(0);
    // The dashboard's own reads, an address typed in the bar, and clients that are not browsers.
    for (const headers of [{ 'sec-fetch-site': 'same-origin' }, { 'sec-fetch-site': 'none' }, {}] as Record<string, string>[]) {
      expect((await send(server.port, '/metrics', { headers: { host, ...headers } })).status).toBe(200);
    }
  });

  it('with a token set, lets a cross-site read in only with the token', async () => {
    server = await startAdminServer('127.0.0.1', 0, slowMetrics(0), { token: TOKEN, loopback: true }, silent);
    const headers = { host: `127.0.0.1:${server.port}`, 'sec-fetch-site': 'cross-site' };
    expectError(await send(server.port, '/metrics', { headers }), 'ERR_ADMIN_UNAUTHORIZED');
    expect((await send(server.port, '/metrics', { headers: { ...headers, authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });
});

describe('the Host a loopback admin server takes for its own', () => {
  it('is localhost or a loopback IP literal in any spelling, with a port or not; any other name is a foreign page', async () => {
    server = await startAdminServer('127.0.0.1', 0, slowMetrics(0), { token: undefined, loopback: true }, silent);
    const port = server.port;
    // [::ffff:7f00:1] is how a browser writes [::ffff:127.0.0.1].
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `LOCALHOST:${port}`, `[::1]:${port}`, `[::ffff:7f00:1]:${port}`, '[::ffff:127.0.0.1]', '127.3.2.1']) {
      expect((await send(port, '/v1/dashboard', { headers: { host } })).status, host).toBe(200);
    }
    for (const host of ['attacker.example', '127.0.0.1.nip.io', `[::ffff:a00:1]:${port}`, '[::2]', '::1', '[::1']) {
      expectError(await send(port, '/v1/dashboard', { headers: { host } }), 'ERR_ADMIN_FORBIDDEN');
    }
  });
});

describe('admin answers', () => {
  it('are never sniffed as another type nor kept by a browser: JSON, errors and metrics alike', async () => {
    server = await startAdminServer('127.0.0.1', 0, slowMetrics(0), { token: undefined, loopback: true }, silent);
    const host = `127.0.0.1:${server.port}`;
    for (const path of ['/metrics', '/tenants', '/tenants/nobody', '/v1/nodes', '/nowhere', '/v1/reload']) {
      const { status, headers } = await send(server.port, path, { headers: { host } });
      expect({ path, status, nosniff: headers['x-content-type-options'], cache: headers['cache-control'] }).toEqual({
        path,
        status: { '/tenants/nobody': 404, '/nowhere': 404, '/v1/reload': 405 }[path] ?? 200,
        nosniff: 'nosniff',
        cache: 'no-store',
      });
    }
  });
});

describe('concurrent /metrics scrapes', () => {
  it('share collections: one at a time, each begun after the scrape came', async () => {
    const routes = slowMetrics(400);
    server = await startAdminServer('127.0.0.1', 0, routes, { token: undefined, loopback: true }, silent);
    const port = server.port;
    const first = send(port, '/metrics');
    await expect.poll(() => routes.collections).toBe(1);
    // 20 scrapes while the first collection runs: they wait for it and share the next.
    const wave = await Promise.all(Array.from({ length: 20 }, () => send(port, '/metrics')));
    expect((await first).text).toBe('1');
    // Every one of them collected after it came (not the first collection's), all in one (two if
    // the slowest arrived only after the first ended), where each used to collect on its own.
    for (const reply of wave) expect(Number(reply.text)).toBeGreaterThanOrEqual(2);
    expect(routes.collections).toBeLessThanOrEqual(3);
    // A later scrape starts afresh.
    expect(Number((await send(port, '/metrics')).text)).toBe(routes.collections);
  });

  it('begin at most one per METRICS_MIN_GAP_MS, however fast and however many scrapers ask', async () => {
    // Before: a scraper in a loop made every acceptor thread snapshot its metrics as fast as it asked.
    const gap = METRICS_MIN_GAP_MS ?? 100;
    const routes = slowMetrics(0);
    server = await startAdminServer('127.0.0.1', 0, routes, { token: undefined, loopback: true }, silent);
    const port = server.port;
    const began = performance.now();
    for (let i = 0; i < 5; i++) await send(port, '/metrics');
    await Promise.all(Array.from({ length: 30 }, () => send(port, '/metrics')));
    for (let i = 0; i < 5; i++) await send(port, '/metrics');
    const elapsed = performance.now() - began;
    // One per gap (timers may fire a little early; 40 here, each on its own, before).
    expect(routes.collections).toBeLessThanOrEqual(Math.floor((1.1 * elapsed) / gap) + 2);
  });
});
