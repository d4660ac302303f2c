import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadOrigin, startBackend, type Backend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, pooled, send } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw-http.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;
const SERVER = 2;
const STATUS_ERROR = 2;

let receiver: OtlpReceiver;
let echo: Backend;
let on: GatewayProcess;
let off: GatewayProcess;

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
/** A client's traceparent in a trace of its own: [header, trace id, span id]. */
function clientContext(sampled = true): [string, string, string] {
  const traceId = hex(16);
  const spanId = hex(8);
  return [`00-${traceId}-${spanId}-${sampled ? '01' : '00'}`, traceId, spanId];
}

async function config(): Promise<unknown> {
  const dead = await deadOrigin();
  return {
    routes: [
      { prefix: '/', cluster: 'echo' },
      { prefix: '/dead/', cluster: 'dead' },
      { prefix: '/mixed/', cluster: 'mixed', retries: { max: 1, backoffBaseMs: 0 } },
    ],
    clusters: {
      echo: { nodes: [{ id: 'e0', url: echo.url }] },
      dead: { nodes: [{ id: 'd0', url: dead }] },
      mixed: { nodes: [{ id: 'd1', url: dead }, { id: 'm0', url: echo.url }] },
    },
  };
}

/** The gateway's environment with tracing to the test receiver, spans leaving every 50 ms. */
const traced = (serviceName: string, extra: Record<string, string> = {}): Record<string, string> => ({
  GATEWAY_THREADS: '1',
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
  OTEL_BSP_SCHEDULE_DELAY: '50',
  OTEL_SERVICE_NAME: serviceName,
  ...extra,
});

/** The headers the echo backend saw for a request through `gateway`. */
async function seenThrough(gateway: GatewayProcess, path: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const reply = await send(gateway.port, path, { tenant: 't1', headers });
  expect(reply.status).toBe(200);
  return JSON.parse(reply.text) as Record<string, string>;
}

async function spanOf(traceId: string): Promise<ReceivedSpan> {
  await receiver.waitFor((spans) => spans.some((s) => s.traceId === traceId));
  return receiver.spans.find((s) => s.traceId === traceId)!;
}

const ofService = (name: string): ReceivedSpan[] => receiver.spans.filter((s) => s.resource['service.name'] === name);

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  echo = await startBackend('e0', (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(req.headers)));
  });
  const file = await config();
  [on, off] = await Promise.all([startGateway(file, traced('gw-on')), startGateway(file, { GATEWAY_THREADS: '1', OTEL_EXPORTER_OTLP_ENDPOINT: '' })]);
});

afterAll(async () => {
  for (const gateway of [on, off]) if (gateway !== undefined) expect(await gateway.stop()).toBe(0);
  await echo?.close();
  await receiver?.close();
});

describe('tracing (OpenTelemetry, OTLP/HTTP)', () => {
  it("continues the client's trace: the span is its child, and the node gets a traceparent naming the span", async () => {
    const [traceparent, traceId, clientSpan] = clientContext();
    const seen = await seenThrough(on, '/orders/7?q=1', { traceparent, tracestate: 'vendor=abc' });
    const [, seenTrace, seenSpan, flags] = TRACEPARENT.exec(seen.traceparent!)!;
    expect({ seenTrace, flags, tracestate: seen.tracestate }).toEqual({ seenTrace: traceId, flags: '01', tracestate: 'vendor=abc' });
    expect(seenSpan).not.toBe(clientSpan);

    const span = await spanOf(traceId);
    expect(span).toMatchObject({ parentSpanId: clientSpan, spanId: seenSpan, kind: SERVER, name: 'GET /*', statusCode: 0 });
    expect(span.attributes).toMatchObject({
      'tenant.id': 't1',
      'gateway.request_id': seen['x-request-id'],
      'gateway.node.selected': 'e0',
      'gateway.node.address': '127.0.0.1',
      'gateway.node.port': Number(new URL(echo.url).port),
      'routing.decision.reason': 'ring_owner',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'http.route': '/*',
      'url.path': '/orders/7',
      'server.address': '127.0.0.1',
      'server.port': on.port,
    });
    expect(span.attributes['error.type']).toBeUndefined();
    expect(span.resource['service.name']).toBe('gw-on');
  });

  it('starts a new trace for a request without a traceparent, or with an invalid one (its tracestate then dropped)', async () => {
    for (const headers of [{}, { traceparent: '00-not-a-trace-01', tracestate: 'vendor=abc' }] as Record<string, string>[]) {
      const seen = await seenThrough(on, '/fresh', headers);
      const [, traceId, spanId, flags] = TRACEPARENT.exec(seen.traceparent!)!;
      expect(flags).toBe('01');
      expect(seen.tracestate).toBeUndefined();
      expect(await spanOf(traceId!)).toMatchObject({ spanId, parentSpanId: '' });
    }
  });

  it('a node that fails: the span has error status and the error code as error.type', async () => {
    const [traceparent, traceId] = clientContext();
    expectError(await send(on.port, '/dead/x', { tenant: 't1', headers: { traceparent } }), 'ERR_UPSTREAM_CONNECT');
    const span = await spanOf(traceId);
    expect(span.statusCode).toBe(STATUS_ERROR);
    expect(span.attributes).toMatchObject({ 'error.type': 'ERR_UPSTREAM_CONNECT', 'http.response.status_code': 502, 'gateway.node.selected': 'd0' });
  });

  it('a retry keeps the span: the event names the failed node, the node that answered sees the same parent', async () => {
    // Tenants until one's ring owner is the refusing node: its retry is the second attempt.
    let retried: { traceId: string; seen: Record<string, string> } | null = null;
    for (let i = 0; i < 40 && retried === null; i++) {
      const [traceparent, traceId] = clientContext();
      const reply = await send(on.port, '/mixed/r', { tenant: `r${i}`, headers: { traceparent } });
      const seen = JSON.parse(reply.text) as Record<string, string>;
      if (seen['x-ringgate-attempt'] === '2') retried = { traceId, seen };
    }
    expect(retried).not.toBeNull();
    const span = await spanOf(retried!.traceId);
    expect(span.spanId).toBe(TRACEPARENT.exec(retried!.seen.traceparent!)![2]);
    expect(span.attributes).toMatchObject({ 'http.request.resend_count': 1, 'routing.decision.reason': 'retry', 'gateway.node.selected': 'm0', 'http.response.status_code': 200 });
    expect(span.events).toEqual([{ name: 'retry', attributes: { 'gateway.node.selected': 'd1', 'error.type': 'ERR_UPSTREAM_CONNECT' } }]);
  });

  it('a request the gateway answers before forwarding has its span too, with the code', async () => {
    const [traceparent, traceId, clientSpan] = clientContext();
    expectError(await send(on.port, '/x', { headers: { traceparent } }), 'ERR_MISSING_TENANT');
    const span = await spanOf(traceId);
    expect(span).toMatchObject({ parentSpanId: clientSpan, statusCode: 0 });
    expect(span.attributes).toMatchObject({ 'error.type': 'ERR_MISSING_TENANT', 'http.response.status_code': 400 });
    expect(span.attributes['gateway.node.selected']).toBeUndefined();
  });

  it('cuts a long path to 512 characters in the span, as in the access log', async () => {
    const [traceparent, traceId] = clientContext();
    const path = `/long/${'p'.repeat(3_000)}`;
    await seenThrough(on, path, { traceparent });
    expect((await spanOf(traceId)).attributes['url.path']).toBe(`${path.slice(0, 512)}…`);
  });

  it('a Host with an empty port (example.test:) names no server.port', async () => {
    const [traceparent, traceId] = clientContext();
    const head = `GET /odd HTTP/1.1\r\nHost: example.test:\r\nx-tenant-id: t1\r\ntraceparent: ${traceparent}\r\nConnection: close\r\n\r\n`;
    expect((await rawExchange(on.port, head, 5000)).text).toMatch(/^HTTP\/1\.1 200/);
    const span = await spanOf(traceId);
    expect(span.attributes).toMatchObject({ 'server.address': 'example.test' });
    expect(span.attributes['server.port']).toBeUndefined();
  });

  it('a CONNECT refused before its head was checked: its raw Host and tenant id are no attributes', async () => {
    const [traceparent, traceId] = clientContext();
    const head = `CONNECT /x HTTP/1.1\r\nHost: made.up:99999\r\nx-tenant-id: <not a tenant>\r\ntraceparent: ${traceparent}\r\n\r\n`;
    expect((await rawExchange(on.port, head, 5000)).text).toContain('ERR_METHOD_NOT_SUPPORTED');
    const span = await spanOf(traceId);
    expect(span.attributes).toMatchObject({ 'error.type': 'ERR_METHOD_NOT_SUPPORTED' });
    for (const name of ['tenant.id', 'server.address', 'server.port']) expect(span.attributes[name]).toBeUndefined();
  });

  it("with tracing off, the client's traceparent and tracestate reach the node unchanged", async () => {
    const [traceparent] = clientContext();
    const seen = await seenThrough(off, '/x', { traceparent, tracestate: 'a=1,b=2' });
    expect({ traceparent: seen.traceparent, tracestate: seen.tracestate }).toEqual({ traceparent, tracestate: 'a=1,b=2' });
  });

  it('always_off exports nothing, and still sends the node a traceparent of its own (not sampled)', async () => {
    const gateway = await startGateway(await config(), traced('gw-always-off', { OTEL_TRACES_SAMPLER: 'always_off' }));
    const [traceparent, traceId, clientSpan] = clientContext();
    const [, seenTrace, seenSpan, flags] = TRACEPARENT.exec((await seenThrough(gateway, '/x', { traceparent })).traceparent!)!;
    expect({ seenTrace, flags }).toEqual({ seenTrace: traceId, flags: '00' });
    expect(seenSpan).not.toBe(clientSpan);
    expect(TRACEPARENT.exec((await seenThrough(gateway, '/y')).traceparent!)![3]).toBe('00');
    // A drained thread flushes its spans before it exits: after the exit, every span it would send has come.
    expect(await gateway.stop()).toBe(0);
    expect(ofService('gw-always-off')).toEqual([]);
  });

  it('traceidratio 0.5 records some new traces but not all: exactly those whose node saw the sampled flag', async () => {
    const gateway = await startGateway(await config(), traced('gw-ratio', { GATEWAY_THREADS: '2', OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.5' }));
    const flags = await pooled(8, Array.from({ length: 200 }, (_, i) => async () => TRACEPARENT.exec((await seenThrough(gateway, `/ratio/${i}`)).traceparent!)![3]));
    expect(await gateway.stop()).toBe(0);
    const sampled = flags.filter((f) => f === '01').length;
    // Binomial(200, 0.5): outside 60..140 once in about 10^8 runs.
    expect(sampled).toBeGreaterThan(60);
    expect(sampled).toBeLessThan(140);
    expect(ofService('gw-ratio')).toHaveLength(sampled);
  });

  it('a collector out of reach: requests go on unharmed, and the failed export is logged', async () => {
    const gateway = await startGateway(await config(), {
      ...traced('gw-unreachable'),
      OTEL_EXPORTER_OTLP_ENDPOINT: await deadOrigin(),
      // Read by the exporter itself: its retries of the refused export give up soon.
      OTEL_EXPORTER_OTLP_TIMEOUT: '500',
    });
    try {
      for (let i = 0; i < 5; i++) expect((await send(gateway.port, `/u/${i}`, { tenant: 't1' })).status).toBe(200);
      const deadline = Date.now() + 10_000;
      while (!gateway.logs.some((line) => line.includes('opentelemetry:')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const logged = gateway.logs.filter((line) => line.includes('opentelemetry:')).map((line) => JSON.parse(line) as { level: number });
      expect(logged.length).toBe(1);
      expect(logged[0]!.level).toBeGreaterThanOrEqual(40);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  it('a bad sampler is a config error naming it: the gateway exits before listening', async () => {
    await expect(startGateway(await config(), traced('gw-bad', { OTEL_TRACES_SAMPLER: 'sometimes' }))).rejects.toThrow(/exited \(1\) before listening[\s\S]*OTEL_TRACES_SAMPLER = "sometimes"/);
  });

  it('receives only OTLP/HTTP JSON on /v1/traces', () => {
    expect(receiver.rejected).toEqual([]);
  });
});
