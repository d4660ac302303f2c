import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, writeConfig, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { makeTestCa, startTlsBackend, type IssuedCert, type TestCa, type TlsBackend } from '../helpers/test-ca.js';

let ca: TestCa;
let client: IssuedCert;
/** A certificate for backend.test, signed by the test CA. */
let backend: TlsBackend;
/** The same, asking every client for a certificate the test CA signed (mTLS). */
let mutual: TlsBackend;
let gateway: GatewayProcess;
/** The CA file of cluster `rotating`: another CA's at first. */
let rotatingCaFile: string;

interface NodeView {
  cluster: string;
  reason: string;
  activeCheck: string;
}

const HEALTH = { path: '/health', intervalMs: 200, jitterMs: 50, timeoutMs: 150, unhealthyThreshold: 1, healthyThreshold: 1 };

beforeAll(async () => {
  ca = makeTestCa();
  const server = ca.issue('backend.test', { serverNames: ['backend.test'] });
  client = ca.issue('ringgate-gateway', 'client');
  rotatingCaFile = join(ca.dir, 'rotating-ca.pem');
  copyFileSync(makeTestCa().certFile, rotatingCaFile);
  [backend, mutual] = await Promise.all([
    startTlsBackend({ cert: server.cert, key: server.key }),
    startTlsBackend({ cert: server.cert, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }),
  ]);
  const node = (port: number) => [{ id: 'n', url: `https://127.0.0.1:${port}` }];
  const trusted = { caFile: ca.certFile, servername: 'backend.test' };
  const clusters = {
    trusted: { nodes: node(backend.port), tls: trusted },
    untrusted: { nodes: node(backend.port), tls: { servername: 'backend.test' }, panicThreshold: 0 },
    wrongName: { nodes: node(backend.port), tls: { caFile: ca.certFile, servername: 'other.test' } },
    unverified: { nodes: node(backend.port), tls: { verify: false } },
    anonymous: { nodes: node(mutual.port), tls: trusted },
    mutual: { nodes: node(mutual.port), tls: { ...trusted, certFile: client.certFile, keyFile: client.keyFile } },
    checked: { nodes: node(backend.port), tls: trusted, healthCheck: HEALTH },
    checkedUntrusted: { nodes: node(backend.port), tls: { servername: 'backend.test' }, healthCheck: HEALTH },
    rotating: { nodes: node(backend.port), tls: { caFile: rotatingCaFile, servername: 'backend.test' } },
    upperCase: { nodes: [{ id: 'n', url: `HTTPS://127.0.0.1:${backend.port}` }], tls: trusted },
  };
  const routes = Object.keys(clusters).map((name) => ({ prefix: `/${name}/`, cluster: name, requireTenant: false, retries: { max: 0 } }));
  gateway = await startGateway({ routes, clusters }, { GATEWAY_THREADS: '1' });
}, 30_000);

afterAll(async () => {
  if (gateway !== undefined) expect(await gateway.stop()).toBe(0);
  await Promise.all([backend?.close(), mutual?.close()]);
});

const nodes = async (): Promise<NodeView[]> =>
  ((await (await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/nodes`)).json()) as { nodes: NodeView[] }).nodes;

describe('https nodes (cluster tls)', () => {
  it('verifies the node against the configured CA, sending the configured server name', async () => {
    const reply = await send(gateway.port, '/trusted/x');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ servername: 'backend.test', clientCn: null });
  });

  it('applies the tls settings to a node whose url writes its scheme in capitals (HTTPS://)', async () => {
    const reply = await send(gateway.port, '/upperCase/x');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ servername: 'backend.test', clientCn: null });
  });

  it('sends the node\'s name whatever Host the clients send, on one kept-alive connection', async () => {
    await send(gateway.port, '/trusted/x');
    for (const host of ['a.example', 'b.example:8080', 'c.example']) {
      const reply = await send(gateway.port, '/trusted/x', { headers: { host } });
      expect({ status: reply.status, sni: (JSON.parse(reply.text) as { servername: string }).servername }).toEqual({ status: 200, sni: 'backend.test' });
    }
    // undici, left to itself, would reconnect whenever the name it takes from Host changed.
    const connections = backend.seen.filter((s) => s.path === '/trusted/x').slice(-4).map((s) => s.connection);
    expect(new Set(connections).size).toBe(1);
  });

  it('answers ERR_UPSTREAM_TLS when the node\'s certificate is not trusted, and keeps serving', async () => {
    expectError(await send(gateway.port, '/untrusted/x'), 'ERR_UPSTREAM_TLS');
    expect((await send(gateway.port, '/trusted/x')).status).toBe(200);
  });

  it('answers ERR_UPSTREAM_TLS when the certificate is not for the server name', async () => {
    expectError(await send(gateway.port, '/wrongName/x'), 'ERR_UPSTREAM_TLS');
  });

  it('counts handshake failures against the node as connection failures: it is taken out', async () => {
    // One failure is in already; 5 in a row take a node out (passive health).
    for (let i = 0; i < 4; i++) expectError(await send(gateway.port, '/untrusted/x'), 'ERR_UPSTREAM_TLS');
    await expect.poll(async () => (await nodes()).find((n) => n.cluster === 'untrusted')?.reason, { timeout: 5_000 }).toBe('connect-failures');
    expectError(await send(gateway.port, '/untrusted/x'), 'ERR_RING_EMPTY');
  });

  it('accepts any certificate with verify false, and warns of that cluster in the log', async () => {
    const reply = await send(gateway.port, '/unverified/x');
    expect(reply.status).toBe(200);
    // An IP url without a configured servername sends no SNI.
    expect(JSON.parse(reply.text)).toEqual({ servername: null, clientCn: null });
    const warned = (): (string | undefined)[] =>
      gateway.logs.map((line) => JSON.parse(line) as { level: number; cluster?: string; msg: string }).filter((e) => e.level === 40 && e.msg.includes('not verified')).map((e) => e.cluster);
    expect(warned()).toEqual(['unverified']);
    // And again at every reload.
    gateway.child.kill('SIGHUP');
    await expect.poll(warned, { timeout: 5_000 }).toEqual(['unverified', 'unverified']);
  });

  it('presents the client certificate to a node that asks for one (mTLS), and none where none is configured', async () => {
    const refused = await send(gateway.port, '/anonymous/x');
    // Under TLS 1.3 the node refuses after the gateway's side of the handshake is done: mostly by
    // closing the connection (a reset), or with an alert when that arrives first.
    expect(refused.status).toBe(502);
    expect(['ERR_UPSTREAM_CONNECT', 'ERR_UPSTREAM_TLS']).toContain((JSON.parse(refused.text) as { code: string }).code);
    const reply = await send(gateway.port, '/mutual/x');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ servername: 'backend.test', clientCn: 'ringgate-gateway' });
    expect(mutual.seen.map(({ path, servername, clientCn }) => ({ path, servername, clientCn }))).toEqual([{ path: '/mutual/x', servername: 'backend.test', clientCn: 'ringgate-gateway' }]);
  });

  it('checks the health of https nodes with the cluster\'s TLS settings', async () => {
    const checkOf = async (cluster: string) => (await nodes()).find((n) => n.cluster === cluster)?.activeCheck;
    // Only a check that trusted the certificate gets as far as a request.
    await expect.poll(() => backend.seen.some((s) => s.path === '/health' && s.servername === 'backend.test'), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => checkOf('checkedUntrusted'), { timeout: 5_000 }).toBe('failing');
    expect(await checkOf('checked')).toBe('passing');
    expect((await send(gateway.port, '/checked/x')).status).toBe(200);
  });

  it('reads the files again at a reload: a CA replaced in place is trusted from then on', async () => {
    expectError(await send(gateway.port, '/rotating/x'), 'ERR_UPSTREAM_TLS');
    copyFileSync(ca.certFile, rotatingCaFile);
    gateway.child.kill('SIGHUP');
    await expect.poll(async () => (await send(gateway.port, '/rotating/x')).status, { timeout: 5_000 }).toBe(200);
  });
});

describe('https nodes a reload brings to a gateway that started with plain-http nodes only', () => {
  let plain: Backend;
  let later: GatewayProcess;
  let configPath: string;
  const configOf = (clusters: Record<string, unknown>) => ({
    routes: Object.keys(clusters).map((name) => ({ prefix: `/${name}/`, cluster: name, requireTenant: false, retries: { max: 0 } })),
    clusters,
  });

  beforeAll(async () => {
    plain = await startBackend('plain');
    configPath = writeConfig(configOf({ plain: { nodes: [{ id: 'p', url: plain.url }] } }));
    later = await startGateway(null, { GATEWAY_CONFIG: configPath, GATEWAY_THREADS: '2' });
  }, 30_000);

  afterAll(async () => {
    if (later !== undefined) expect(await later.stop()).toBe(0);
    await plain?.close();
  });

  it('loads undici in each acceptor as the reload needs it, and forwards through it from then on', async () => {
    expect((await send(later.port, '/plain/x')).status).toBe(200);
    const https = { nodes: [{ id: 's', url: `https://127.0.0.1:${backend.port}` }], tls: { caFile: ca.certFile, servername: 'backend.test' } };
    writeFileSync(configPath, JSON.stringify(configOf({ plain: { nodes: [{ id: 'p', url: plain.url }] }, secure: https })));
    later.child.kill('SIGHUP');
    await expect.poll(async () => (await send(later.port, '/secure/x')).status, { timeout: 10_000 }).toBe(200);
    // A connection each: both acceptors answer some of them.
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => send(later.port, i % 2 === 0 ? '/secure/x' : '/plain/x').then((r) => r.status)));
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 200));
    // Loaded in the running threads: none died on the reload and came back loading it at its start.
    expect(metricValue(await later.metrics(), 'ringgate_thread_restarts_total')).toBe(0);
    expect(later.logs.filter((line) => (JSON.parse(line) as { level: number }).level >= 50)).toEqual([]);
  });
});
