import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

let backend: Backend;
let gateway: GatewayProcess;

beforeAll(async () => {
  backend = await startBackend('h0');
  gateway = await startGateway({
    routes: [
      { prefix: '/lean/', cluster: 'c', forwardHeaders: ['Authorization', 'accept'] },
      { prefix: '/lean-sharded/', cluster: 'c', forwardHeaders: ['accept'], hashOn: { header: 'x-shard' } },
      { prefix: '/full/', cluster: 'c' },
    ],
    clusters: { c: { nodes: [{ id: 'h0', url: backend.url }] } },
  });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await backend.close();
});

const CLIENT_HEADERS = {
  authorization: 'Bearer abc',
  accept: 'application/json',
  cookie: 'session=' + 'x'.repeat(2000),
  'user-agent': 'a-browser/1.0 '.repeat(20),
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'vendor=opaque',
};

describe('header compaction (forwardHeaders)', () => {
  it('forwards only the listed headers, the trace context, the tenant, and what the gateway sets', async () => {
    expect((await send(gateway.port, '/lean/x', { tenant: 't', method: 'POST', body: 'hi', headers: CLIENT_HEADERS })).status).toBe(200);
    const seen = backend.seen.at(-1)!.headers;
    // No Connection: HTTP/1.1 keeps the connection without one (undici's Pool, GATEWAY_UPSTREAM_CLIENT=undici, adds its own).
    const expected = ['accept', 'authorization', 'content-length', 'host', 'traceparent', 'tracestate'];
    expect(Object.keys(seen).sort()).toEqual([...expected, 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-request-id', 'x-tenant-id']);
    expect(seen.authorization).toBe('Bearer abc');
    expect(seen['content-length']).toBe('2');
    expect(seen['x-tenant-id']).toBe('t');
  });

  it('forwards the header the route hashes on, which routed the request, though its list leaves it out', async () => {
    expect((await send(gateway.port, '/lean-sharded/x', { tenant: 't', headers: { ...CLIENT_HEADERS, 'x-shard': 's7' } })).status).toBe(200);
    const seen = backend.seen.at(-1)!.headers;
    expect({ shard: seen['x-shard'], tenant: seen['x-tenant-id'], cookie: seen.cookie }).toEqual({ shard: 's7', tenant: 't', cookie: undefined });
  });

  it('leaves other routes whole, and counts head bytes received against forwarded per compacting route', async () => {
    expect((await send(gateway.port, '/full/x', { tenant: 't', headers: CLIENT_HEADERS })).status).toBe(200);
    const seen = backend.seen.at(-1)!.headers;
    expect(seen.cookie).toBe(CLIENT_HEADERS.cookie);
    expect(seen['x-tenant-id']).toBe('t');
    const metrics = await gateway.metrics();
    const received = metricValue(metrics, 'ringgate_request_header_bytes_total', 'route="prefix:/lean/"', 'direction="received"');
    const forwarded = metricValue(metrics, 'ringgate_request_header_bytes_total', 'route="prefix:/lean/"', 'direction="forwarded"');
    expect(received).toBeGreaterThan(2300);
    expect(forwarded).toBeGreaterThan(100);
    expect(forwarded).toBeLessThan(received / 5);
    expect(metricValue(metrics, 'ringgate_request_header_bytes_total', 'route="prefix:/full/"')).toBe(0);
  });
});
