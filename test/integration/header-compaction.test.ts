import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';
import { answers, rawExchange } from '../helpers/raw-http.js';

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

  it('counts a head with wide characters in bytes on both sides, forwarded as received', async () => {
    // Over a third of the 16 KiB limit in UTF-16 units, so counted again in bytes. Euro signs are
    // 3 bytes each; ASCII around them (uWS drops a value's trailing bytes past ASCII, test/uws-limits).
    const head = (mark: string): Buffer =>
      Buffer.from(`GET /lean/x HTTP/1.1\r\nHost: a\r\nX-Tenant-ID: t\r\nCookie: ${'x'.repeat(4_000)}\r\nAuthorization: <${mark.repeat(1_400)}>\r\n\r\n`);
    const counted = async (): Promise<[number, number]> => {
      const metrics = await gateway.metrics();
      return [
        metricValue(metrics, 'ringgate_request_header_bytes_total', 'route="prefix:/lean/"', 'direction="received"'),
        metricValue(metrics, 'ringgate_request_header_bytes_total', 'route="prefix:/lean/"', 'direction="forwarded"'),
      ];
    };
    const added = async (mark: string): Promise<[number, number]> => {
      const before = await counted();
      expect((await rawExchange(gateway.port, head(mark), 3_000, answers(1))).text.slice(0, 12)).toBe('HTTP/1.1 200');
      return vi.waitFor(async () => {
        const after = await counted();
        expect(after[1]).toBeGreaterThan(before[1]);
        return [after[0] - before[0], after[1] - before[1]];
      });
    };
    const narrow = await added('e');
    const wide = await added('\u20ac');
    // node:http hands header values over as latin1.
    expect(Buffer.from(String(backend.seen.at(-1)!.headers.authorization), 'latin1').toString()).toBe(`<${'\u20ac'.repeat(1_400)}>`);
    expect([wide[0] - narrow[0], wide[1] - narrow[1]]).toEqual([2_800, 2_800]);
  });
});
