import { request, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { pump } from '../helpers/pump.js';

let backend: Backend;
let gateway: GatewayProcess;
const held: ServerResponse[] = [];

beforeAll(async () => {
  backend = await startBackend('q0', (req, res) => {
    req.resume();
    if (req.url === '/hold') held.push(res);
    else req.on('end', () => res.writeHead(200, { 'content-length': 2 }).end('ok'));
  });
  // One thread, one connection to the node: a second request waits in the pool's queue.
  gateway = await startGateway(
    { routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'q0', url: backend.url }] } } },
    { GATEWAY_THREADS: '1', GATEWAY_UPSTREAM_POOL_SIZE: '1', GATEWAY_MAX_BODY_BYTES: '1024' },
  );
});

afterAll(async () => {
  for (const res of held.splice(0)) res.end();
  expect(await gateway?.stop()).toBe(0);
  await backend?.close();
});

/** A chunked upload of `bytes`, written as fast as the gateway takes it; resolves with the answer. */
function upload(bytes: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: gateway.port, path: '/upload', method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    void pump(req, bytes).then(() => req.end());
  });
}

describe('an upload past GATEWAY_MAX_BODY_BYTES while its request waits for a connection', () => {
  it('is answered 413, and the thread goes on serving what it holds', async () => {
    const holding = send(gateway.port, '/hold');
    await expect.poll(() => held.length).toBe(1);
    const over = await upload(1024 * 1024);
    expectError(over, 'ERR_BODY_TOO_LARGE');
    held.shift()!.writeHead(200, { 'content-length': 4 }).end('done');
    expect((await holding).text).toBe('done');
    expect((await send(gateway.port, '/after')).text).toBe('ok');
  });
});
