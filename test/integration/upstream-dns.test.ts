import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';
import { makeTestCa, startTlsBackend, type TlsBackend } from '../helpers/test-ca.js';

let dns: TestDnsServer;
/** backend.test's first address, then its second: one port, two loopback addresses. */
let first: Backend;
let second: Backend;
let secure: TlsBackend;
let gateway: GatewayProcess;
/** Releases the slow request's body on the first backend. */
let release: () => void = () => {};

beforeAll(async () => {
  first = await startBackend('first', (req, res, id) => {
    req.resume();
    if (req.url !== '/app/slow') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));
      return;
    }
    // Head and a first chunk now, the rest once the test says: a request in flight across the move.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('started;');
    release = () => res.end('finished');
  });
  // Linux routes all of 127/8 to loopback: the second address needs no setup.
  second = await startBackend('second', undefined, {}, Number(new URL(first.url).port), '127.0.0.2');
  const ca = makeTestCa();
  const cert = ca.issue('secure.test', { serverNames: ['secure.test'] });
  secure = await startTlsBackend({ cert: cert.cert, key: cert.key });
  dns = await startDnsServer({ 'backend.test': '127.0.0.1', 'secure.test': '127.0.0.1' });
  const config = {
    routes: [
      { prefix: '/app/', cluster: 'app', requireTenant: false, retries: { max: 0 } },
      { prefix: '/secure/', cluster: 'secure', requireTenant: false },
    ],
    clusters: {
      app: { nodes: [{ id: 'n', url: `http://backend.test:${new URL(first.url).port}` }] },
      secure: { nodes: [{ id: 's', url: `https://secure.test:${secure.port}` }], tls: { caFile: ca.certFile } },
    },
  };
  gateway = await startGateway(config, {
    GATEWAY_THREADS: '2',
    GATEWAY_DNS_SERVERS: dns.address,
    GATEWAY_DNS_TTL_MS: '200',
  });
}, 30_000);

afterAll(async () => {
  release();
  if (gateway !== undefined) expect(await gateway.stop()).toBe(0);
  await Promise.all([first?.close(), second?.close(), secure?.close(), dns?.close()]);
});

const backendOf = async (): Promise<string> => {
  const reply = await send(gateway.port, '/app/x');
  expect(reply.status).toBe(200);
  return (JSON.parse(reply.text) as { backend: string }).backend;
};

/** Requests on fresh connections, so both acceptor threads answer some. */
const backendsOf = async (n: number): Promise<Set<string>> => new Set(await Promise.all(Array.from({ length: n }, backendOf)));

describe('node host names (GATEWAY_DNS_TTL_MS, GATEWAY_DNS_SERVERS)', () => {
  it('connects to the address the name resolves to', async () => {
    expect(await backendsOf(8)).toEqual(new Set(['first']));
    expect(dns.asked).toContain('backend.test');
  });

  it('reaches an https node named by host name, with that name as SNI and as the name its certificate is checked for', async () => {
    const reply = await send(gateway.port, '/secure/x');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ servername: 'secure.test', clientCn: null });
  });

  it('moves new connections to a new address while a request on the old one finishes; the old connections then close', async () => {
    const slow = send(gateway.port, '/app/slow');
    await expect.poll(() => first.seen.some((r) => r.url === '/app/slow')).toBe(true);
    dns.answers.set('backend.test', '127.0.0.2');
    // Keep-alive connections to the first address stay open: only new pools move, within a TTL or two.
    await expect.poll(async () => [...(await backendsOf(8))], { timeout: 5_000, interval: 100 }).toEqual(['second']);
    release();
    const reply = await slow;
    expect({ status: reply.status, text: reply.text }).toEqual({ status: 200, text: 'started;finished' });
    // The old pools close once the requests begun before the move are done.
    await expect.poll(() => first.openConnections(), { timeout: 8_000, interval: 200 }).toBe(0);
    const moved = gateway.logs.filter((line) => line.includes('resolved to new addresses') && line.includes('127.0.0.2'));
    expect(moved).toHaveLength(1);
  });

  it('keeps the last good address while the name does not resolve, and says so in the log', async () => {
    dns.answers.delete('backend.test');
    await expect.poll(() => gateway.logs.some((line) => line.includes('could not be resolved')), { timeout: 5_000 }).toBe(true);
    expect(await backendsOf(4)).toEqual(new Set(['second']));
    // Logged once a minute at most, however many TTLs fail.
    const asked = dns.asked.length;
    await expect.poll(() => dns.asked.length, { timeout: 5_000 }).toBeGreaterThan(asked + 4);
    expect(gateway.logs.filter((line) => line.includes('could not be resolved'))).toHaveLength(1);
  });
});
