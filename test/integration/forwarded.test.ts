import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

let backend: Backend;
let trusting: GatewayProcess;
let distrusting: GatewayProcess;

const CLAIMS = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https', forwarded: 'for=203.0.113.7;proto=https' };

beforeAll(async () => {
  // Echoes the headers it got.
  backend = await startBackend('f0', (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers)));
  });
  const config = {
    routes: [
      { prefix: '/by-real-ip/', cluster: 'c', rateLimit: { requests: 1, windowMs: 60_000, by: { header: 'x-real-ip' } } },
      { prefix: '/', cluster: 'c' },
    ],
    clusters: { c: { nodes: [{ id: 'f0', url: backend.url }] } },
  };
  [trusting, distrusting] = await Promise.all([
    startGateway(config, { GATEWAY_THREADS: '1', GATEWAY_TRUSTED_PROXIES: '10.1.2.3, 127.0.0.0/8, ::1' }),
    startGateway(config, { GATEWAY_THREADS: '1', GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8' }),
  ]);
});

afterAll(async () => {
  for (const gateway of [trusting, distrusting]) if (gateway !== undefined) expect(await gateway.stop()).toBe(0);
  await backend?.close();
});

const seenThrough = async (gateway: GatewayProcess, headers: Record<string, string>): Promise<Record<string, string>> =>
  JSON.parse((await send(gateway.port, '/x', { tenant: 't', headers })).text) as Record<string, string>;

describe('X-Forwarded-* and Forwarded (GATEWAY_TRUSTED_PROXIES)', () => {
  it('keeps what a trusted proxy says of earlier hops, appending the proxy to X-Forwarded-For and Forwarded', async () => {
    const seen = await seenThrough(trusting, CLAIMS);
    expect(seen['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('https');
    expect(seen.forwarded).toBe('for=203.0.113.7;proto=https, for=127.0.0.1');
  });

  it('replaces what anyone else says: its own address, the gateway\'s scheme, no Forwarded', async () => {
    const seen = await seenThrough(distrusting, CLAIMS);
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen.forwarded).toBeUndefined();
  });

  it('takes the last scheme of a proxy chain\'s list', async () => {
    expect((await seenThrough(trusting, { 'x-forwarded-proto': 'http, https' }))['x-forwarded-proto']).toBe('https');
  });

  it("passes X-Real-IP, X-Forwarded-Port and the like from a trusted proxy only, and a path override from no one", async () => {
    const claims = {
      'x-real-ip': '203.0.113.7',
      'x-client-ip': '203.0.113.7',
      'true-client-ip': '203.0.113.7',
      'x-forwarded-port': '443',
      'x-forwarded-prefix': '/shop',
      'x-forwarded-ssl': 'on',
      'x-forwarded-scheme': 'https',
      'cf-connecting-ip': '203.0.113.7',
      'x-cluster-client-ip': '203.0.113.7',
    };
    const overrides = { 'x-original-url': '/admin/x', 'x-rewrite-url': '/admin/x', 'x-original-uri': '/admin/x', 'x-forwarded-uri': '/admin/x' };
    const names = [...Object.keys(claims), ...Object.keys(overrides)];
    const keptBy = async (gateway: GatewayProcess) => {
      const seen = await seenThrough(gateway, { ...claims, ...overrides });
      return Object.fromEntries(names.filter((name) => name in seen).map((name) => [name, seen[name]]));
    };
    expect(await keptBy(trusting)).toEqual(claims);
    expect(await keptBy(distrusting)).toEqual({});
    // Named in Connection by a trusted proxy: hop-by-hop, then.
    expect((await seenThrough(trusting, { 'x-real-ip': '203.0.113.7', connection: 'x-real-ip' }))['x-real-ip']).toBeUndefined();
  });

  it('lets a rate limit count by X-Real-IP only as a trusted proxy says it', async () => {
    const statusOf = async (gateway: GatewayProcess, realIp: string) => (await send(gateway.port, '/by-real-ip/x', { tenant: 't', headers: { 'x-real-ip': realIp } })).status;
    expect([await statusOf(trusting, '203.0.113.1'), await statusOf(trusting, '203.0.113.2')]).toEqual([200, 200]);
    // Anyone else's goes before the limit counts: by the client's own address, whatever it claims.
    expect([await statusOf(distrusting, '203.0.113.1'), await statusOf(distrusting, '203.0.113.2')]).toEqual([200, 429]);
  });

  it('never passes on a scheme other than http or https, even from a trusted proxy', async () => {
    const seen = await seenThrough(trusting, { 'x-forwarded-proto': 'javascript' });
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
  });
});
