import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, startRawBackend, type Backend } from '../helpers/backends.js';
import { startGateway, writeConfig, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

/** The gateway's upstream timeout: the time a retired pool waited before it closed. */
const UPSTREAM_TIMEOUT_MS = 1000;

let backends: Backend[] = [];
let silent: { url: string; close(): Promise<void> };
let gateway: GatewayProcess;
let configPath: string;

const configOf = (node: Backend) => ({
  routes: [
    { prefix: '/silent', cluster: 'silent', requireTenant: false, retries: { max: 0 } },
    { prefix: '/', cluster: 'c', requireTenant: false, retries: { max: 0 } },
  ],
  clusters: { c: { nodes: [{ id: node.id, url: node.url }] }, silent: { nodes: [{ id: 'silent', url: silent.url }] } },
});

beforeAll(async () => {
  backends = await Promise.all(['n0', 'n1'].map((id) => startBackend(id)));
  // Takes the request and never answers: the gateway's upstream timeout ends it.
  silent = await startRawBackend(() => {});
  configPath = writeConfig(configOf(backends[0]!));
  // One thread: the request held open and the reload meet in the same pools.
  gateway = await startGateway(null, { GATEWAY_CONFIG: configPath, GATEWAY_THREADS: '1', GATEWAY_UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) });
}, 30_000);

afterAll(async () => {
  if (gateway !== undefined) expect(await gateway.stop()).toBe(0);
  await Promise.all([...backends.map((b) => b.close()), silent?.close()]);
});

/** Collects what the gateway answers on `socket` until it has a whole JSON body. */
const answerOn = (socket: Socket): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (text.includes('}')) resolve(text);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });

describe('a reload while a request is open', () => {
  it("leaves the old node's pool open for a request begun before, however long its body takes", async () => {
    const socket = connect(gateway.port, '127.0.0.1');
    const answer = answerOn(socket);
    try {
      // A buffered body, half sent: the request dispatches to its plan's pool only once the rest comes.
      socket.write('POST /up HTTP/1.1\r\nHost: t\r\nX-Tenant-Id: slow-upload\r\nContent-Length: 10\r\n\r\n12345');
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/tenants/slow-upload`)).status, { timeout: 5_000 }).toBe(200);

      writeFileSync(configPath, JSON.stringify(configOf(backends[1]!)));
      expect((await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' })).status).toBe(200);
      await expect.poll(async () => JSON.parse((await send(gateway.port, '/x')).text).backend, { timeout: 5_000 }).toBe('n1');
      // Begun after the thread took the new config, this request's upstream timeout ends after the old pool's retirement timer would have.
      expect((await send(gateway.port, '/silent')).status).toBe(504);

      socket.write('67890');
      const text = await answer;
      expect(text.slice(0, text.indexOf('\r\n'))).toBe('HTTP/1.1 200 OK');
      // The node the request's own config chose, which the reload removed.
      expect(text).toContain('"backend":"n0"');
    } finally {
      socket.destroy();
    }
  });
});
