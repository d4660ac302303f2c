import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { uploadAtOnce } from '../helpers/raw-http.js';

const MAX = 1024 * 1024;
let backend: Backend;
let gateway: GatewayProcess;

beforeAll(async () => {
  backend = await startBackend('b0');
  gateway = await startGateway(
    {
      routes: [
        { prefix: '/tenants-only/', cluster: 'c', requireTenant: true },
        { prefix: '/', cluster: 'c', requireTenant: false },
      ],
      clusters: { c: { nodes: [{ id: 'b0', url: backend.url }] } },
    },
    { GATEWAY_THREADS: '1', GATEWAY_MAX_BODY_BYTES: String(MAX) },
  );
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await backend?.close();
});

describe('a request refused before its body was read', () => {
  it('gets its answer: the body sent behind the head is read and dropped before the close, not reset under the answer', async () => {
    // Before: the answer went out at once and the close with the body unread was a reset, which
    // made nearly every client's kernel drop the answer (EPIPE or ECONNRESET, no 413).
    const tooLarge = [];
    for (let i = 0; i < 10; i++) tooLarge.push(await uploadAtOnce(gateway.port, '/up', 2 * MAX));
    expect(tooLarge).toEqual(Array(10).fill({ statuses: [413], error: null }));
    const noTenant = [];
    for (let i = 0; i < 5; i++) noTenant.push(await uploadAtOnce(gateway.port, '/tenants-only/up', MAX));
    expect(noTenant).toEqual(Array(5).fill({ statuses: [400], error: null }));
    expect(backend.seen).toHaveLength(0);
    expect(metricValue(await gateway.metrics(), 'ringgate_http_errors_total', 'code="ERR_BODY_TOO_LARGE"')).toBe(10);
  }, 60_000);
});
