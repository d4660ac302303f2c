import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, startRawBackend, type Backend } from '../helpers/backends.js';
import { startGateway, writeConfig, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

/** The gateway's upstream timeout: until 2280efe, the time a retired pool waited before it closed. */
const UPSTREAM_TIMEOUT_MS = 1000;

let backends: Backend[] = [];
/** Ends the answer to a request for /hold, streamed until the test says. */
let releaseHold: () => void = () => {};
let silent: { url: string; close(): Promise<void> };
let gateway: GatewayProcess;
let configPath: string;

const configOf = (node: Backend, extraPrefix = '/extra/') => ({
  routes: [
    { prefix: extraPrefix, cluster: 'c', requireTenant: false },
    { prefix: '/silent', cluster: 'silent', requireTenant: false, retries: { max: 0 } },
    { prefix: '/', cluster: 'c', requireTenant: false, retries: { max: 0 } },
  ],
  clusters: { c: { nodes: [{ id: node.id, url: node.url }] }, silent: { nodes: [{ id: 'silent', url: silent.url }] } },
});

beforeAll(async () => {
  backends = await Promise.all(['n0', 'n1'].map((id) => startBackend(id, holding)));
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

function holding(req: IncomingMessage, res: ServerResponse, id: string): void {
  req.resume();
  if (req.url === '/hold') {
    // A byte now and then: the body never pauses as long as the gateway's upstream timeout.
    res.writeHead(200, { 'content-type': 'text/plain' });
    const ticks = setInterval(() => res.write('.'), 100);
    releaseHold = () => {
      releaseHold = () => {};
      clearInterval(ticks);
      res.end(id);
    };
    return;
  }
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id })));
}

/** Reloads to `config` and waits until the thread answers by it: `/x` reaches `node`, `probe` is routed. */
async function reloadTo(config: unknown, node: string, probe: string): Promise<void> {
  writeFileSync(configPath, JSON.stringify(config));
  expect((await fetch(`http://127.0.0.1:${gateway.adminPort}/v1/reload`, { method: 'POST' })).status).toBe(200);
  await expect.poll(async () => JSON.parse((await send(gateway.port, '/x')).text).backend, { timeout: 5_000 }).toBe(node);
  await expect.poll(async () => (await send(gateway.port, probe)).status, { timeout: 5_000 }).toBe(200);
}

/** Sends a POST whose buffered body stops halfway, and waits until the gateway has its head. */
async function halfSentUpload(tenant: string): Promise<{ socket: Socket; answer: Promise<string> }> {
  const socket = connect(gateway.port, '127.0.0.1');
  const answer = answerOn(socket);
  // A buffered body, half sent: the request dispatches to its plan's pool only once the rest comes.
  socket.write(`POST /up HTTP/1.1\r\nHost: t\r\nX-Tenant-Id: ${tenant}\r\nContent-Length: 10\r\n\r\n12345`);
  await expect.poll(async () => (await fetch(`http://127.0.0.1:${gateway.adminPort}/tenants/${tenant}`)).status, { timeout: 5_000 }).toBe(200);
  return { socket, answer };
}

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
    const { socket, answer } = await halfSentUpload('slow-upload');
    try {
      await reloadTo(configOf(backends[1]!), 'n1', '/extra/x');
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

  it('closes the old pool once the requests begun before its retirement end, though one begun after is still open', async () => {
    const [n0, n1] = backends as [Backend, Backend];
    await reloadTo(configOf(n0), 'n0', '/extra/x');
    const { socket, answer } = await halfSentUpload('slow-upload-2');
    try {
      await reloadTo(configOf(n1), 'n1', '/extra/x');
      // Begun after n0's pool retired, and open across the next reload.
      const held = send(gateway.port, '/hold');
      await expect.poll(() => n1.seen.some((r) => r.url === '/hold'), { timeout: 5_000 }).toBe(true);
      await reloadTo(configOf(n1, '/more/'), 'n1', '/more/x');

      socket.write('67890');
      expect(await answer).toContain('"backend":"n0"');
      // Its keep-alive connection to n0 (the node keeps idle ones 30 s) closes with the pool.
      await expect.poll(() => n0.openConnections(), { timeout: 5_000 }).toBe(0);
      releaseHold();
      expect((await held).status).toBe(200);
    } finally {
      socket.destroy();
      releaseHold();
    }
  });
});
