import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startAdminServer, type AdminRoutes, type AdminServer } from '../../src/coordinator/admin-server.js';
import { isLoopback } from '../../src/coordinator/listen-address.js';
import { stubAdminRoutes } from '../helpers/admin-routes.js';
import { expectError, send } from '../helpers/http.js';

/** Routes that only count the writes that reached them. */
function countingRoutes(): AdminRoutes & { writes: number } {
  const routes = {
    ...stubAdminRoutes(),
    writes: 0,
    pushNodes: () => (routes.writes++, { ok: true as const, applied: 1 }),
    reload: () => (routes.writes++, { ok: true as const, needRestart: [] }),
  };
  return routes;
}

let server: AdminServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('what counts as a loopback admin server', () => {
  it('takes only localhost and loopback IP literals for loopback, not any name that starts with "127."', () => {
    for (const host of ['127.example.com', '127.0.0.1.nip.io', '0.0.0.0', '::', '10.0.0.1', 'admin.internal']) expect(isLoopback(host), host).toBe(false);
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(host), host).toBe(true);
  });

  it('refuses tokenless calls when the address it bound to is beyond loopback, whatever its host was taken for', async () => {
    // As `GATEWAY_ADMIN_HOST=<a name taken for loopback>` that resolved to a wildcard address.
    const routes = countingRoutes();
    server = await startAdminServer('0.0.0.0', 0, routes, { token: undefined, loopback: true }, pino({ level: 'silent' }));
    expectError(await send(server.port, '/v1/reload', { method: 'POST' }), 'ERR_ADMIN_FORBIDDEN');
    expectError(await send(server.port, '/v1/nodes', { method: 'POST', body: '{}' }), 'ERR_ADMIN_FORBIDDEN');
    expectError(await send(server.port, '/v1/nodes'), 'ERR_ADMIN_FORBIDDEN');
    expect(routes.writes).toBe(0);
  });

  it('still takes tokenless writes on a loopback address', async () => {
    const routes = countingRoutes();
    server = await startAdminServer('127.0.0.1', 0, routes, { token: undefined, loopback: true }, pino({ level: 'silent' }));
    expect((await send(server.port, '/v1/reload', { method: 'POST' })).status).toBe(200);
    expect(routes.writes).toBe(1);
  });
});
