import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

/** Large enough to cross several socket reads and uWS backpressure on its way through. */
const BIG = Buffer.alloc(256 * 1024, 'r');

let backend: Backend;
const gateways = new Map<string, GatewayProcess>();

beforeAll(async () => {
  backend = await startBackend('h0', (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/big') res.writeHead(200, { 'content-length': BIG.length }).end(BIG);
      // No length: node:http answers chunked.
      else res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.headers['content-length'] ?? '-'}`);
    });
  });
  const config = { routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'h0', url: backend.url }] } } };
  for (const client of ['h1', 'undici']) gateways.set(client, await startGateway(config, { GATEWAY_UPSTREAM_CLIENT: client, GATEWAY_THREADS: '1' }));
});

afterAll(async () => {
  for (const gateway of gateways.values()) expect(await gateway.stop()).toBe(0);
  await backend.close();
});

describe('GATEWAY_UPSTREAM_CLIENT', () => {
  it.each(['h1', 'undici'])('%s: proxies a large answer, a chunked one and an upload alike', async (client) => {
    const port = gateways.get(client)!.port;
    const big = await send(port, '/big', { tenant: 't' });
    expect(big.status).toBe(200);
    expect(big.body.equals(BIG)).toBe(true);
    const chunked = await send(port, '/small', { tenant: 't', method: 'POST', body: 'abc' });
    expect(chunked.text).toBe('POST 3');
  });

  it('chooses the client: undici says Connection: keep-alive on every request, the own client never', async () => {
    for (const [client, expected] of [['h1', undefined], ['undici', 'keep-alive']] as const) {
      backend.seen.length = 0;
      expect((await send(gateways.get(client)!.port, '/which', { tenant: 't' })).status).toBe(200);
      expect(backend.seen.at(-1)!.headers.connection).toBe(expected);
    }
  });
});
