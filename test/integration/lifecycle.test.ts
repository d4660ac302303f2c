import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startBackend, startRawBackend } from '../helpers/backends.js';
import { MAIN, metricValue, startGateway, writeConfig } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { jsonBodies, statuses } from '../helpers/raw-http.js';

/** Runs the binary to completion (it must exit by itself) and returns its exit code and stderr. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...(process.env as Record<string, string>), GATEWAY_PORT: '0', GATEWAY_ADMIN_PORT: '0', GATEWAY_THREADS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout });
    });
  });
}

/** Whether a TCP connection to `port` is refused; one that is accepted is closed at once. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

const singleCluster = (url: string) => ({
  routes: [{ prefix: '/', cluster: 'c', requireTenant: false }],
  clusters: { c: { nodes: [{ id: 'n', url }] } },
});

describe('lifecycle', () => {
  it('drains on SIGTERM: in-flight requests finish, health turns 503, new connections are refused, exit 0', async () => {
    const backend = await startBackend('slow', (req, res) => {
      req.resume();
      setTimeout(() => res.writeHead(200, { 'content-length': 4 }).end('done'), 800);
    });
    const gateway = await startGateway(singleCluster(backend.url), { GATEWAY_THREADS: '1', GATEWAY_DRAIN_MS: '5000' });
    // A keep-alive connection opened before the drain, to ask for health during it.
    const keepAlive = connect(gateway.port, '127.0.0.1');
    let keepAliveText = '';
    keepAlive.on('data', (d) => (keepAliveText += d));
    keepAlive.on('error', () => {});
    keepAlive.write('GET /_ringgate/healthz HTTP/1.1\r\nHost: a\r\n\r\n');
    await expect.poll(() => statuses(keepAliveText)).toEqual([200]);

    const inFlight = send(gateway.port, '/slow');
    await expect.poll(() => backend.seen.length).toBe(1);
    const exited = gateway.stop('SIGTERM');
    // The acceptor closes its listen socket and starts draining in one step.
    await expect.poll(() => refused(gateway.port), { timeout: 5_000 }).toBe(true);

    keepAlive.write('GET /_ringgate/healthz HTTP/1.1\r\nHost: a\r\n\r\n');
    await expect.poll(() => statuses(keepAliveText)).toEqual([200, 503]);
    expectError({ status: 503, text: JSON.stringify(jsonBodies(keepAliveText)[1]) }, 'ERR_SHUTTING_DOWN');
    await expect(send(gateway.port, '/new')).rejects.toThrow(/ECONNREFUSED/);

    const reply = await inFlight;
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('done');
    expect(await exited).toBe(0);
    keepAlive.destroy();
    await backend.close();
  });

  it.each(['h1', 'undici'])("%s: says which requests the drain deadline cut: ERR_SHUTTING_DOWN beside their 499, a keyed write's too", async (client) => {
    const backend = await startBackend('stuck', (req) => {
      req.resume(); // never answered
    });
    const config = { routes: [{ prefix: '/', cluster: 'c', requireTenant: false, idempotency: 'optional' }], clusters: { c: { nodes: [{ id: 'n', url: backend.url }] } } };
    const gateway = await startGateway(config, { GATEWAY_THREADS: '1', GATEWAY_DRAIN_MS: '300', GATEWAY_UPSTREAM_CLIENT: client });
    const cut = send(gateway.port, '/stuck', { headers: { 'x-request-id': 'cut-at-deadline' } }).catch((err: Error) => err);
    // A keyed write reads on once its client is cut (a duplicate must get its answer): the pools' close ends it.
    const keyed = send(gateway.port, '/keyed', { method: 'POST', body: 'x', headers: { 'x-request-id': 'cut-keyed', 'idempotency-key': 'k1' } }).catch((err: Error) => err);
    await expect.poll(() => backend.seen.length).toBe(2);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    expect(await cut).toBeInstanceOf(Error);
    expect(await keyed).toBeInstanceOf(Error);
    const lines = gateway.logs.map((text) => JSON.parse(text) as { requestId?: string; status?: number; code?: string });
    for (const id of ['cut-at-deadline', 'cut-keyed']) expect(lines.find((entry) => entry.requestId === id)).toMatchObject({ status: 499, code: 'ERR_SHUTTING_DOWN' });
    expect(gateway.logs.some((text) => text.includes('acceptor drained') && text.includes('"abandoned":2'))).toBe(true);
    await backend.close();
  });

  it('moves clients that send on and on off their kept-alive connections while draining, and cuts none of their requests', async () => {
    const backend = await startBackend('steady', (req, res) => {
      req.resume();
      setTimeout(() => res.writeHead(200, { 'content-length': 2 }).end('ok'), 100);
    });
    const gateway = await startGateway(singleCluster(backend.url), { GATEWAY_THREADS: '1', GATEWAY_DRAIN_MS: '15000' });
    let draining = false;
    /** What each request came to: its status and whether its answer said Connection: close, or the error's code. */
    const outcomes: string[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // Two clients, each sending its next request as soon as the last is answered, on one kept-alive connection.
    const client = async (): Promise<void> => {
      for (;;) {
        const outcome = await new Promise<string>((resolve) => {
          const req = request({ host: '127.0.0.1', port: gateway.port, path: '/steady', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(`${res.statusCode} ${draining ? res.headers.connection : 'before'}`));
            res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
          });
          req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
          req.end();
        });
        outcomes.push(outcome);
        // Refused: the gateway listens no more, and this client had moved off its connection.
        if (!outcome.startsWith('200')) return;
      }
    };
    const clients = [client(), client()];
    await expect.poll(() => outcomes.length).toBeGreaterThan(4);
    draining = true;
    const exited = gateway.stop('SIGTERM');
    await Promise.all(clients);
    expect(await exited).toBe(0);
    agent.destroy();
    // Every request the gateway took was answered; each client ended on a refused connection, not a cut one.
    expect(outcomes.filter((o) => !o.startsWith('200'))).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
    expect(outcomes).toContain('200 close');
    expect(gateway.logs.some((line) => line.includes('acceptor drained') && line.includes('"abandoned":0'))).toBe(true);
    await backend.close();
  });

  it("closes a kept-alive connection after the gateway's own error answer too, once it drains", async () => {
    // A node that answers garbage: every request is answered 502 ERR_UPSTREAM_PROTOCOL, which keeps the connection.
    const garbled = await startRawBackend((socket) => socket.end('HTTP/1.1 abc\r\n\r\n'));
    // A request it holds keeps the drain going meanwhile.
    const slow = await startBackend('slow-too', (_req, res) => void setTimeout(() => res.writeHead(200, { 'content-length': 2 }).end('ok'), 1_000));
    const config = {
      routes: [
        { prefix: '/slow/', cluster: 's', requireTenant: false },
        { prefix: '/', cluster: 'c', requireTenant: false },
      ],
      clusters: { c: { nodes: [{ id: 'n', url: garbled.url }] }, s: { nodes: [{ id: 's', url: slow.url }] } },
    };
    const gateway = await startGateway(config, { GATEWAY_THREADS: '1', GATEWAY_DRAIN_MS: '15000' });
    const socket = connect(gateway.port, '127.0.0.1');
    let text = '';
    let closed = false;
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    socket.write('GET /first HTTP/1.1\r\nHost: a\r\n\r\n');
    await expect.poll(() => statuses(text)).toEqual([502]);
    expect(text.toLowerCase()).not.toContain('connection: close');
    const inFlight = send(gateway.port, '/slow/x');
    await expect.poll(() => slow.seen.length).toBe(1);
    const exited = gateway.stop('SIGTERM');
    await expect.poll(() => refused(gateway.port), { timeout: 5_000 }).toBe(true);
    socket.write('GET /second HTTP/1.1\r\nHost: a\r\n\r\n');
    await expect.poll(() => statuses(text)).toEqual([502, 502]);
    expect(text.toLowerCase().split('http/1.1 502')[2]).toContain('connection: close');
    await expect.poll(() => closed).toBe(true);
    expect((await inFlight).text).toBe('ok');
    expect(await exited).toBe(0);
    await Promise.all([slow.close(), garbled.close()]);
  });

  it('runs its one acceptor on the main thread with GATEWAY_INLINE_ACCEPTOR=1, and drains the same way', async () => {
    const backend = await startBackend('inline', (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': 2 }).end('ok');
    });
    const gateway = await startGateway(singleCluster(backend.url), { GATEWAY_INLINE_ACCEPTOR: '1', GATEWAY_THREADS: '4' });
    const threaded = await startGateway(singleCluster(backend.url), { GATEWAY_THREADS: '2' }).catch(async (err: Error) => {
      await gateway.stop();
      throw err;
    });
    try {
      // The main thread plus libuv's and V8's own: no acceptor worker threads.
      const threadCount = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/Threads:\s+(\d+)/)![1]);
      expect(threadCount(gateway.pid)).toBeLessThan(threadCount(threaded.pid));

      for (let i = 0; i < 5; i++) expect((await send(gateway.port, `/r${i}`)).text).toBe('ok');
      const metrics = await gateway.metrics();
      expect(metricValue(metrics, 'ringgate_thread_requests_total', 'thread="0"')).toBe(5);
      expect(metricValue(metrics, 'ringgate_thread_requests_total', 'thread="1"')).toBe(0);
      expect(gateway.logs.some((line) => line.includes('"threads":1'))).toBe(true);
    } finally {
      expect(await threaded.stop()).toBe(0);
      expect(await gateway.stop()).toBe(0);
    }
    expect(gateway.logs.some((line) => line.includes('acceptor drained'))).toBe(true);
    await backend.close();
  });

  it('exits 1 before listening on invalid config, naming the field and value', async () => {
    const bad = { routes: [{ prefix: '/', cluster: 'missing' }], clusters: {} };
    const { code, stderr, stdout } = await runToExit({ GATEWAY_CONFIG: writeConfig(bad) });
    expect(code).toBe(1);
    expect(stderr).toContain('ringgate: ERR_CONFIG: invalid config');
    expect(stderr).toContain('routes[0].cluster = "missing": names no cluster');
    expect(stdout).not.toContain('listening');

    const env = await runToExit({ GATEWAY_CONFIG: writeConfig(singleCluster('http://127.0.0.1:1')), GATEWAY_THREADS: 'many' });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('GATEWAY_THREADS = "many": expected a whole number');
  });

  it('refuses to start on the uWebSockets.js pure-JS fallback, naming the override', async () => {
    const config = writeConfig(singleCluster('http://127.0.0.1:1'));
    // UWS_USE_FALLBACK is the package's own switch: it loads the fallback as if the binary had failed.
    const refused = await runToExit({ GATEWAY_CONFIG: config, UWS_USE_FALLBACK: '1' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('fell back to its slow pure-JS server; refusing to start');
    expect(refused.stdout).toContain('GATEWAY_ALLOW_UWS_FALLBACK=1');
  });

  it('refuses to share its port with another gateway already on it (SO_REUSEPORT would split the connections)', async () => {
    const first = await startGateway(singleCluster('http://127.0.0.1:1'), { GATEWAY_THREADS: '1' });
    try {
      const second = await runToExit({ GATEWAY_CONFIG: writeConfig(singleCluster('http://127.0.0.1:1')), GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: String(first.port) });
      expect(second.code).toBe(1);
      expect(second.stdout).toContain(`cannot listen on 127.0.0.1:${first.port}`);
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });

  it('names the admin address it cannot listen on, and exits 1', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const refused = await runToExit({ GATEWAY_CONFIG: writeConfig(singleCluster('http://127.0.0.1:1')), GATEWAY_ADMIN_HOST: '127.0.0.1', GATEWAY_ADMIN_PORT: String(port) });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toContain(`the admin server cannot listen on 127.0.0.1:${port} (GATEWAY_ADMIN_HOST, GATEWAY_ADMIN_PORT): listen EADDRINUSE`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('runs on built-in demo backends when no config is given', async () => {
    // A misspelt setting (GATEWAY_MAX_BODY_BYTES) is named at start-up, not silently ignored.
    const gateway = await startGateway(null, { GATEWAY_CONFIG: '', GATEWAY_MAX_BODY_BYTE: '10' });
    expect(gateway.logs.some((line) => line.includes('GATEWAY_* env vars that are no setting') && line.includes('GATEWAY_MAX_BODY_BYTE'))).toBe(true);
    // One at a time: two requests of one tenant in flight at once may be spread by the load bound.
    const replies = [];
    for (const tenant of ['acme', 'acme', 'globex']) replies.push(await send(gateway.port, '/hello', { tenant }));
    const bodies = replies.map((r) => JSON.parse(r.text) as { backend: string; tenant: string; az: string });
    expect(bodies[0]!.backend).toMatch(/^demo-[123]$/);
    expect(bodies[1]!.backend).toBe(bodies[0]!.backend);
    expect(bodies[2]!.tenant).toBe('globex');
    expect(['az-a', 'az-b', 'az-c']).toContain(bodies[0]!.az);
    expect(await gateway.stop('SIGINT')).toBe(0);
  });
});
