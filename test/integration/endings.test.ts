import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw-http.js';

let backend: Backend;
let gateway: GatewayProcess;
let held = 0;

beforeAll(async () => {
  backend = await startBackend('n', (req, res) => {
    req.resume();
    if (req.url === '/c/fail') res.writeHead(500, { 'content-length': 4 }).end('fail');
    else if (req.url === '/c/reset') res.destroy();
    else if (req.url === '/c/hold') held++; // never answered: the client gives up
    else res.writeHead(200, { 'content-length': 2 }).end('ok');
  });
  gateway = await startGateway({
    routes: [
      { prefix: '/c/', cluster: 'c' },
      { prefix: '/empty/', cluster: 'empty' },
    ],
    clusters: { c: { nodes: [{ id: 'n', url: backend.url }] }, empty: { nodes: [] } },
  });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await backend?.close();
});

/** A request the client abandons once the node has it. */
async function abandoned(path: string): Promise<void> {
  const before = held;
  const req = request({ host: '127.0.0.1', port: gateway.port, path, headers: { 'x-tenant-id': 'acme' }, agent: false });
  req.on('error', () => {});
  req.end();
  await expect.poll(() => held).toBe(before + 1);
  req.destroy();
}

describe('every ending recorded once, in one place', () => {
  it('counts proxied, failed, aborted and gateway-answered requests exactly once each, in metrics, tenant and node counters', async () => {
    const tenant = { tenant: 'acme' };
    for (let i = 0; i < 3; i++) expect((await send(gateway.port, '/c/ok', tenant)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await send(gateway.port, '/c/fail', tenant)).status).toBe(500);
    for (let i = 0; i < 2; i++) expectError(await send(gateway.port, '/c/reset', tenant), 'ERR_UPSTREAM_CONNECT');
    for (let i = 0; i < 2; i++) await abandoned('/c/hold');
    for (let i = 0; i < 2; i++) expectError(await send(gateway.port, '/empty/x', tenant), 'ERR_RING_EMPTY');
    expectError(await send(gateway.port, '/nowhere', tenant), 'ERR_NO_ROUTE');
    expectError(await send(gateway.port, '/c/ok'), 'ERR_MISSING_TENANT');
    expect((await rawExchange(gateway.port, 'GET /c/ok HTTP/1.1\r\nHost: bad host\r\n\r\n', 2_000)).closedByPeer).toBe(true);
    expect((await send(gateway.port, '/_ringgate/healthz')).status).toBe(200);

    const route = (label: string, statusClass: string) => (text: string) =>
      metricValue(text, 'ringgate_http_requests_total', `route="${label}"`, `status_class="${statusClass}"`);
    await expect.poll(async () => route('prefix:/c/', '4xx')(await gateway.metrics()), { timeout: 5_000 }).toBe(4); // 2 aborted (499), the missing tenant, the bad Host
    const metrics = await gateway.metrics();
    expect(route('prefix:/c/', '2xx')(metrics)).toBe(3);
    expect(route('prefix:/c/', '5xx')(metrics)).toBe(4);
    expect(route('prefix:/empty/', '5xx')(metrics)).toBe(2);
    expect(route('(none)', '4xx')(metrics)).toBe(1);
    expect(route('(healthz)', '2xx')(metrics)).toBe(1);
    expect(metricValue(metrics, 'ringgate_thread_requests_total')).toBe(15);
    expect(metricValue(metrics, 'ringgate_http_request_duration_seconds_count')).toBe(15);
    const errors = (code: string) => metricValue(metrics, 'ringgate_http_errors_total', `code="${code}"`);
    expect([errors('ERR_UPSTREAM_CONNECT'), errors('ERR_RING_EMPTY'), errors('ERR_NO_ROUTE'), errors('ERR_MISSING_TENANT'), errors('ERR_BAD_HOST')]).toEqual([2, 2, 1, 1, 1]);
    expect(metricValue(metrics, 'ringgate_http_errors_total')).toBe(7);
    // The node was given 9 requests (all but the ones refused before select) and holds none now.
    expect(metricValue(metrics, 'ringgate_node_requests_total', 'node="n"')).toBe(9);
    expect(metricValue(metrics, 'ringgate_node_in_flight', 'node="n"')).toBe(0);
    // The tenant counts every request that reached its claim: 9 given to the node, 2 refused by an
    // empty ring; its nodes' 5xx leave out those two 503s, which the gateway answered itself.
    await expect
      .poll(async () => (await (await fetch(`http://127.0.0.1:${gateway.adminPort}/tenants/acme`)).json()) as { totalRequests: number; totalErrors5xx: number }, {
        timeout: 5_000,
      })
      .toMatchObject({ totalRequests: 11, totalErrors5xx: 4 });
  });
});
