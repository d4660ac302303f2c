import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send, type Reply } from '../helpers/http.js';

const held: ServerResponse[] = [];
let backend: Backend;
let gateway: GatewayProcess;

beforeAll(async () => {
  // Holds every /held/ request until the test releases it; answers the rest at once.
  backend = await startBackend('n', (req, res) => {
    req.resume();
    if (req.url!.includes('/held/')) held.push(res);
    else res.writeHead(200, { 'content-length': 2 }).end('ok');
  });
  gateway = await startGateway(
    { routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'n', url: backend.url }] } } },
    { GATEWAY_THREADS: '2', GATEWAY_FAULT_INJECTION: '1' },
  );
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await backend?.close();
});

const nodeInFlight = async (): Promise<number> => metricValue(await gateway.metrics(), 'ringgate_node_in_flight', 'node="n"');

describe('an acceptor thread that dies while holding requests', () => {
  it('is a test-only switch the gateway warns of at start', () => {
    expect(gateway.logs.some((line) => line.includes('"level":40') && line.includes('GATEWAY_FAULT_INJECTION is on'))).toBe(true);
  });

  it('leaves no in-flight count behind: the coordinator takes back its share, the other thread serves on', async () => {
    // Requests held by the node, on whichever threads the kernel gives their connections.
    const outcomes: Promise<Reply | Error>[] = [];
    for (let i = 0; i < 6; i++) outcomes.push(send(gateway.port, `/held/${i}`).catch((err: Error) => err));
    await expect.poll(() => held.length, { timeout: 5_000 }).toBe(6);
    // This one is given to the node like the others, then its thread crashes while the node counts it.
    const crashed = send(gateway.port, '/_ringgate/fault/crash-thread/held/x').catch((err: Error) => err);
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_thread_restarts_total'), { timeout: 10_000 }).toBe(1);
    expect(await crashed).toBeInstanceOf(Error);
    expect(gateway.logs.some((line) => line.includes('released the in-flight requests of an exited acceptor thread'))).toBe(true);

    // The surviving thread keeps serving meanwhile; the restarted one joins again.
    expect((await send(gateway.port, '/quick')).text).toBe('ok');
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_threads_running'), { timeout: 10_000 }).toBe(2);

    // The node answers everything it held: the counts go back to exactly 0, and stay there.
    for (const res of held.splice(0)) if (!res.destroyed) res.writeHead(200, { 'content-length': 4 }).end('done');
    const replies = await Promise.all(outcomes);
    const answered = replies.filter((r): r is Reply => !(r instanceof Error));
    for (const reply of answered) expect(reply.text).toBe('done');
    await expect.poll(nodeInFlight, { timeout: 5_000 }).toBe(0);
    for (let i = 0; i < 10; i++) expect((await send(gateway.port, `/after/${i}`)).text).toBe('ok');
    expect(await nodeInFlight()).toBe(0);
    expect(metricValue(await gateway.metrics(), 'ringgate_node_requests_total', 'node="n"')).toBe(7 + 1 + 10);
  });

  it('keeps what a dead thread counted in the sums it serves: a counter never goes back', async () => {
    // On new connections: the kernel spreads them over both threads.
    for (let i = 0; i < 40; i++) expect((await send(gateway.port, `/counted/${i}`)).text).toBe('ok');
    const before = metricValue(await gateway.metrics(), 'ringgate_http_requests_total');
    const restarts = metricValue(await gateway.metrics(), 'ringgate_thread_restarts_total');
    const crashed = send(gateway.port, '/_ringgate/fault/crash-thread/x').catch((err: Error) => err);
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_thread_restarts_total'), { timeout: 10_000 }).toBe(restarts + 1);
    expect(await crashed).toBeInstanceOf(Error);
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_threads_running'), { timeout: 10_000 }).toBe(2);
    expect(metricValue(await gateway.metrics(), 'ringgate_http_requests_total')).toBeGreaterThanOrEqual(before);
  });

  it('keeps what a dying thread counted and logged since the last scrape: nothing answered goes missing', async () => {
    // GATEWAY_THREADS=2: requests on new connections land on both threads; every one of them is answered, none is scraped.
    const scraped = metricValue(await gateway.metrics(), 'ringgate_http_requests_total');
    const restarts = metricValue(await gateway.metrics(), 'ringgate_thread_restarts_total');
    const ids = Array.from({ length: 20 }, (_, i) => `unscraped-${i}`);
    const replies = await Promise.all(ids.map((id) => send(gateway.port, `/unscraped/${id}`, { headers: { 'x-request-id': id } })));
    for (const reply of replies) expect(reply.text).toBe('ok');
    const crashed = send(gateway.port, '/_ringgate/fault/crash-thread/x').catch((err: Error) => err);
    await expect.poll(async () => metricValue(await gateway.metrics(), 'ringgate_thread_restarts_total'), { timeout: 10_000 }).toBe(restarts + 1);
    expect(await crashed).toBeInstanceOf(Error);
    expect(metricValue(await gateway.metrics(), 'ringgate_http_requests_total')).toBe(scraped + ids.length);
    await expect.poll(() => ids.filter((id) => gateway.logs.some((line) => line.includes(`"requestId":"${id}"`))).length, { timeout: 2_000 }).toBe(ids.length);
  });
});
