import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPoissonLoad, parsePoisson, requestBytes, runPoisson } from '../../native-bench/lib/poisson.js';
import { runToEnd } from '../../native-bench/lib/proc.js';

let dir: string;
let tool: string;
const servers: Server[] = [];

/** A keep-alive server answering every request with `status` after `delayMs`; counts what it saw. */
async function serve(status: number, delayMs: number): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1').on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${req.headers['x-tenant-id']} ${body.length}`);
      setTimeout(() => res.writeHead(status, { 'content-length': 2 }).end('ok'), delayMs);
    });
  });
  server.keepAliveTimeout = 60_000;
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, seen };
}

const GET = [{ method: 'GET', path: '/x', bodyBytes: 0, tenant: 'acme' }] as const;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'poisson-load-test'));
  tool = await buildPoissonLoad(dir);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

describe('poisson-load', () => {
  it('offers the rate asked for on keep-alive connections and measures only after the warm-up', async () => {
    const { port, seen } = await serve(200, 0);
    const result = await runPoisson({ tool, port, rate: 2000, connections: 16, seconds: 1, warmupSeconds: 0.5, requests: GET, dir, cpus: null });
    // Poisson counts: 2,000 expected in the measured second, a standard deviation of ~45.
    expect(result.requests).toBeGreaterThan(1800);
    expect(result.requests).toBeLessThan(2200);
    expect(seen.length).toBeGreaterThan(result.requests + 800);
    expect(seen[0]).toBe('GET /x acme 0');
    expect(result.errors).toBe(0);
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
  });

  it('counts the wait of arrivals that find every connection busy (no coordinated omission)', async () => {
    // One connection, 5 ms an answer (200 a second at most), 400 arrivals a second: the queue grows all along.
    const { port } = await serve(200, 5);
    const result = await runPoisson({ tool, port, rate: 400, connections: 1, seconds: 1, warmupSeconds: 0, requests: GET, dir, cpus: null });
    expect(result.waited).toBeGreaterThan(100);
    // The last arrivals waited for about half the run's arrivals ahead of them: far beyond 5 ms.
    expect(result.p99Ms).toBeGreaterThan(300);
  });

  it('sends a shape with a body whole, and counts answers other than 2xx and 3xx as errors', async () => {
    const { port, seen } = await serve(503, 0);
    const post = [{ method: 'POST', path: '/', bodyBytes: 4096, tenant: 't1' }] as const;
    const result = await runPoisson({ tool, port, rate: 500, connections: 4, seconds: 0.5, warmupSeconds: 0, requests: post, dir, cpus: null });
    expect(result.requests).toBeGreaterThan(150);
    expect(result.errors).toBe(result.requests);
    expect(new Set(seen)).toEqual(new Set(['POST / t1 4096']));
  });

  it('takes several requests in turn, bodies and all, as wrk cycles through a scenario', async () => {
    const { port, seen } = await serve(200, 0);
    const requests = [
      { method: 'GET', path: '/?r=0', bodyBytes: 0, tenant: 'a' },
      { method: 'POST', path: '/up', bodyBytes: 5, tenant: 'b' },
      { method: 'GET', path: '/?r=1', bodyBytes: 0, tenant: 'c' },
    ] as const;
    // One connection: the server sees the arrivals in the order they were sent.
    const result = await runPoisson({ tool, port, rate: 300, connections: 1, seconds: 0.5, warmupSeconds: 0, requests, dir, cpus: null });
    expect(result.errors).toBe(0);
    expect(seen.length).toBeGreaterThanOrEqual(6);
    const cycle = ['GET /?r=0 a 0', 'POST /up b 5', 'GET /?r=1 c 0'];
    expect(seen).toEqual(seen.map((_, i) => cycle[i % 3]));
  });

  it('refuses a request file that does not end with a whole request', async () => {
    const { port } = await serve(200, 0);
    const cut = [{ method: 'POST', path: '/', bodyBytes: 8, tenant: 'a' }] as const;
    const requestPath = join(dir, 'cut.http');
    writeFileSync(requestPath, requestBytes(cut[0], port).slice(0, -3), 'latin1');
    await expect(runToEnd(tool, [String(port), '100', '1', '0.2', '0', requestPath], null, 10_000)).rejects.toThrow(/whole requests/);
  });

  it('fails saying why when the server closes a connection', async () => {
    const server = createServer((_req, res) => res.writeHead(200, { connection: 'close', 'content-length': 2 }).end('ok'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await expect(runPoisson({ tool, port, rate: 200, connections: 2, seconds: 0.5, warmupSeconds: 0, requests: GET, dir, cpus: null })).rejects.toThrow(
      /closed a connection/,
    );
  });

  it('takes idle connections in turn, so a server closing connections idle for 300 ms closes none', async () => {
    // uWS (ringgate, the floor) closes a connection idle for 10 s: a run of 8 s or more used to fail on
    // it, every arrival going to the one or two connections freed last while the others sat idle.
    const { port } = await serve(200, 0);
    const server = servers.at(-1)!;
    server.on('connection', (socket) => socket.setTimeout(300, () => socket.destroy()));
    // 20 connections at 200 a second: each takes an arrival every 100 ms on average.
    const result = await runPoisson({ tool, port, rate: 200, connections: 20, seconds: 1.5, warmupSeconds: 0, requests: GET, dir, cpus: null });
    expect(result.errors).toBe(0);
    expect(result.requests).toBeGreaterThan(200);
  });

  it('counts the errors of the measured arrivals only, as it counts their requests', async () => {
    // 503 in the first 300 ms, within the 600 ms warm-up; 200 after.
    const started = Date.now();
    const server = createServer((_req, res) => res.writeHead(Date.now() - started < 300 ? 503 : 200, { 'content-length': 2 }).end('ok'));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const result = await runPoisson({ tool, port, rate: 500, connections: 4, seconds: 0.5, warmupSeconds: 0.6, requests: GET, dir, cpus: null });
    expect(result.requests).toBeGreaterThan(150);
    expect(result.errors).toBe(0);
  });

  it('asks for 1 ns of timer slack, so its timed arrivals are not 50 us late', async () => {
    const { port } = await serve(200, 0);
    const requestPath = join(dir, 'slack.http');
    writeFileSync(requestPath, requestBytes(GET[0], port), 'latin1');
    const child = spawn(tool, [String(port), '100', '2', '1', '0', requestPath], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // Set once its connections are up, a moment after it starts.
      await expect.poll(() => readFileSync(`/proc/${child.pid}/timerslack_ns`, 'utf8').trim(), { timeout: 800, interval: 20 }).toBe('1');
    } finally {
      await exited;
    }
  });

  it('writes the request wrk would send, and refuses output without its fields', () => {
    expect(requestBytes({ method: 'POST', path: '/', bodyBytes: 3, tenant: 'a' }, 8080)).toBe(
      'POST / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Tenant-ID: a\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\nppp',
    );
    expect(parsePoisson('{"requests":10,"seconds":2,"p50Ms":0.1,"p99Ms":0.5,"maxMs":1,"errors":0,"waited":0}\n').rps).toBe(5);
    expect(parsePoisson('{"requests":10,"seconds":2,"p50Ms":0.1,"p99Ms":0.5,"maxMs":1,"errors":0,"waited":0,"lateP99Ms":0.03}\n').lateP99Ms).toBe(0.03);
    expect(parsePoisson('{"requests":10,"seconds":2,"p50Ms":0.1,"p99Ms":0.5,"maxMs":1,"errors":3,"waited":0}\n').answered).toBe(7);
    expect(() => parsePoisson('{"requests":10}')).toThrow(/without seconds/);
  });
});
