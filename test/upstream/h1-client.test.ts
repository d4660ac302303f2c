import { lookup as dnsLookup } from 'node:dns';
import net, { type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UpstreamHandler, UpstreamRequest } from '../../src/upstream/dispatcher.js';
import { H1NodeClient } from '../../src/upstream/h1/node-client.js';
import { ResponseParser } from '../../src/upstream/h1/response-parser.js';
import { fieldTexts } from '../helpers/raw-fields.js';

/** A node on 127.0.0.1 that answers each request it reads with what `answer` returns (null: nothing). */
interface RawNode {
  readonly url: string;
  readonly requests: string[];
  connections: number;
  /** Connections the node saw closed. */
  closed: number;
  close(): Promise<void>;
}

async function rawNode(answer: (request: string, socket: net.Socket) => string | null): Promise<RawNode> {
  const sockets = new Set<net.Socket>();
  const node: RawNode = { url: '', requests: [], connections: 0, closed: 0, close: async () => {} };
  const server = net.createServer((socket) => {
    node.connections++;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      node.closed++;
    });
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      // One request per head; a body (if any) is read with it when its length says so.
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = /content-length: (\d+)/i.exec(buffered.slice(0, end));
        const chunked = /transfer-encoding: chunked/i.test(buffered.slice(0, end));
        const bodyEnd = chunked ? buffered.indexOf('0\r\n\r\n', end + 4) + 5 : end + 4 + Number(length?.[1] ?? 0);
        if ((chunked && bodyEnd < 5) || buffered.length < bodyEnd) return;
        const request = buffered.slice(0, bodyEnd);
        buffered = buffered.slice(bodyEnd);
        node.requests.push(request);
        const reply = answer(request, socket);
        if (reply !== null) socket.write(reply, 'latin1');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return Object.assign(node, {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

interface Outcome {
  status: number;
  headers: string[];
  body: string;
  error: (Error & { code?: string }) | null;
}

/** Sends one request; resolves on onComplete or onError. `onData` may pause (false), and gets `resume`. */
function send(client: H1NodeClient, request: Partial<UpstreamRequest>, onData?: (chunk: Buffer, resume: () => void) => boolean, onConnect?: (abort: (err?: Error) => void) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { status: 0, headers: [], body: '', error: null };
    let resume: () => void = () => {};
    const handler: UpstreamHandler = {
      wanted: true,
      onConnect: (abort) => {
        onConnect?.(abort);
        return true;
      },
      onHeaders(status, headers, resumeReading) {
        outcome.status = status;
        outcome.headers = fieldTexts(headers);
        resume = resumeReading;
        return true;
      },
      onData(chunk) {
        // Copied now: the chunk is a view of a buffer the next read reuses.
        outcome.body += chunk.toString('latin1');
        return onData === undefined ? true : onData(chunk, resume);
      },
      onComplete: () => resolve(outcome),
      onError(err) {
        outcome.error = err;
        resolve(outcome);
      },
    };
    client.dispatch({ method: 'GET', path: '/', headers: ['host', 'node'], body: null, ...request }, handler);
  });
}

function client(url: string, options: { connections?: number; timeoutMs?: number } = {}): H1NodeClient {
  const made = new H1NodeClient(url, { connections: options.connections ?? 4, timeoutMs: options.timeoutMs ?? 10_000, connectTimeoutMs: 2_000, lookup: undefined });
  clients.push(made);
  return made;
}

const clients: H1NodeClient[] = [];
const nodes: RawNode[] = [];
async function node(answer: (request: string, socket: net.Socket) => string | null): Promise<RawNode> {
  const made = await rawNode(answer);
  nodes.push(made);
  return made;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.destroy()));
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

const OK = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

describe('H1NodeClient', () => {
  it('keeps one connection for requests one after another, and writes the head as given', async () => {
    const up = await node(() => OK('hello', 'X-A: b\r\n'));
    const c = client(up.url);
    for (let i = 0; i < 3; i++) {
      const outcome = await send(c, { path: `/p?i=${i}`, headers: ['host', 'node', 'x-tenant-id', 't'] });
      expect(outcome).toMatchObject({ status: 200, body: 'hello', error: null });
      expect(outcome.headers).toEqual(['Content-Length', '5', 'X-A', 'b']);
    }
    expect(up.connections).toBe(1);
    expect(up.requests[2]).toBe('GET /p?i=2 HTTP/1.1\r\nhost: node\r\nx-tenant-id: t\r\n\r\n');
  });

  it('queues past its connections, in order', async () => {
    const up = await node((request) => OK(/GET (\S+)/.exec(request)![1]!));
    const c = client(up.url, { connections: 1 });
    const outcomes = await Promise.all([1, 2, 3].map((i) => send(c, { path: `/${i}` })));
    expect(outcomes.map((o) => o.body)).toEqual(['/1', '/2', '/3']);
    expect(up.connections).toBe(1);
  });

  it('reads chunked and close-delimited bodies', async () => {
    const chunked = await node(() => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    expect((await send(client(chunked.url), {})).body).toBe('abcde');
    const closing = await node((_request, socket) => {
      socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
      return null;
    });
    expect(await send(client(closing.url), {})).toMatchObject({ body: 'until the end', error: null });
  });

  it('pauses while the handler cannot take more, and resumes without losing a byte', async () => {
    const big = 'x'.repeat(300_000);
    const up = await node(() => OK(big));
    let pauses = 0;
    const outcome = await send(client(up.url), {}, (_chunk, resume) => {
      pauses++;
      setImmediate(resume);
      return false;
    });
    expect(outcome.body.length).toBe(big.length);
    expect(outcome.body).toBe(big);
    expect(pauses).toBeGreaterThan(1);
  });

  it('hears no body byte after a false from onHeaders until it resumes, even those read with the head', async () => {
    const up = await node(() => OK('body with the head'));
    const c = client(up.url);
    const events: string[] = [];
    const outcome = await new Promise<string>((resolve, reject) => {
      c.dispatch(
        { method: 'GET', path: '/', headers: ['host', 'node'], body: null },
        {
          wanted: true,
          onConnect: () => true,
          onHeaders(_status, _fields, resume) {
            events.push('head');
            setTimeout(() => {
              events.push('resume');
              resume();
            }, 20);
            return false;
          },
          onData(chunk) {
            events.push(chunk.toString());
            return true;
          },
          onComplete: () => resolve(events.join(',')),
          onError: reject,
        },
      );
    });
    expect(outcome).toBe('head,resume,body with the head');
  });

  it('sends a Buffer body with its length and a stream chunked, or under its declared length', async () => {
    const up = await node(() => OK('ok'));
    const c = client(up.url);
    await send(c, { method: 'POST', body: Buffer.from('abc') });
    expect(up.requests.at(-1)).toBe('POST / HTTP/1.1\r\nhost: node\r\ncontent-length: 3\r\n\r\nabc');
    await send(c, { method: 'POST', body: Readable.from([Buffer.from('ab'), Buffer.from('cde')]) });
    expect(up.requests.at(-1)).toBe('POST / HTTP/1.1\r\nhost: node\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n');
    await send(c, { method: 'POST', headers: ['host', 'node', 'content-length', '5'], body: Readable.from([Buffer.from('ab'), Buffer.from('cde')]) });
    expect(up.requests.at(-1)).toBe('POST / HTTP/1.1\r\nhost: node\r\ncontent-length: 5\r\n\r\nabcde');
    await send(c, { method: 'POST' });
    expect(up.requests.at(-1)).toBe('POST / HTTP/1.1\r\nhost: node\r\ncontent-length: 0\r\n\r\n');
    // An empty chunk of a stream is not the chunked body's end.
    await send(c, { method: 'POST', body: Readable.from([Buffer.from('a'), Buffer.alloc(0), Buffer.from('b')]) });
    expect(up.requests.at(-1)).toBe('POST / HTTP/1.1\r\nhost: node\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n');
    expect(up.connections).toBe(1);
  });

  it('sends a held body byte for byte, joined with its head or (past 64 KiB) after it', async () => {
    const up = await node(() => OK('ok'));
    const c = client(up.url);
    for (const size of [4096, 64 * 1024, 64 * 1024 + 1, 300 * 1024]) {
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i++) body[i] = (i * 7) % 256;
      const outcome = await send(c, { method: 'PUT', path: '/item?v=\u00e9', headers: ['host', 'node', 'x-name', 'caf\u00e9'], body });
      expect(outcome).toMatchObject({ status: 200, error: null });
      const request = Buffer.from(up.requests.at(-1)!, 'latin1');
      // Past ASCII, written as UTF-8: the head's size is counted in bytes, so the body still lands right after it.
      const head = Buffer.from(`PUT /item?v=\u00e9 HTTP/1.1\r\nhost: node\r\nx-name: caf\u00e9\r\ncontent-length: ${size}\r\n\r\n`, 'utf8');
      expect(request.subarray(0, head.length).equals(head)).toBe(true);
      expect(request.subarray(head.length).equals(body)).toBe(true);
    }
    expect(up.connections).toBe(1);
  });

  it('fails a streamed body longer than declared, and never sends a head a value could split', async () => {
    const up = await node(() => OK('ok'));
    const c = client(up.url);
    const long = await send(c, { method: 'POST', headers: ['host', 'node', 'content-length', '2'], body: Readable.from([Buffer.from('abc')]) });
    expect(long.error?.code).toBe('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
    const split = await send(c, { headers: ['host', 'node', 'x-a', 'b\r\nGET /smuggled HTTP/1.1'] });
    expect(split.error?.code).toBe('UND_ERR_INVALID_ARG');
    const promised = await send(c, { method: 'POST', headers: ['host', 'node', 'content-length', '3'] });
    expect(promised.error?.code).toBe('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH');
    const ok = await send(c, {});
    expect(ok.error).toBe(null);
    expect(up.requests.some((r) => r.includes('smuggled'))).toBe(false);
  });

  it('fails queued requests whose heads it cannot write one after another, in a loop, and serves the next', async () => {
    // The node answers the first request once the rest are queued behind it.
    let held: net.Socket | null = null;
    const up = await node((request, socket) => {
      if (request.startsWith('GET /first ')) {
        held = socket;
        return null;
      }
      return OK('next');
    });
    const c = client(up.url, { connections: 1 });
    const first = send(c, { path: '/first' });
    // Each refused head once cost a stack frame or four: some thousands ran a thread out of stack.
    const refused = Array.from({ length: 20_000 }, () => send(c, { headers: ['host', 'node', 'x-a', 'a\x7fb'] }));
    const next = send(c, { path: '/next' });
    await vi.waitFor(() => expect(held).not.toBe(null), { timeout: 5_000 });
    held!.write(OK('first'), 'latin1');
    expect((await first).body).toBe('first');
    const codes = new Set((await Promise.all(refused)).map((outcome) => outcome.error?.code));
    expect([...codes]).toEqual(['UND_ERR_INVALID_ARG']);
    expect(await next).toMatchObject({ status: 200, body: 'next', error: null });
    expect(up.connections).toBe(1);
    expect(up.requests.map((request) => request.split(' ')[1])).toEqual(['/first', '/next']);
  });

  it('fails a malformed answer with its HPE_ code and does not reuse that connection', async () => {
    let first = true;
    const up = await node(() => {
      const reply = first ? 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab' : OK('fine');
      first = false;
      return reply;
    });
    const c = client(up.url);
    expect((await send(c, {})).error?.code).toBe('HPE_UNEXPECTED_CONTENT_LENGTH');
    expect((await send(c, {})).body).toBe('fine');
    expect(up.connections).toBe(2);
  });

  it('fails a chunk line with a bare CR at once when a read ends right after the CR, as it fails the line read whole', async () => {
    const whole = await node(() => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\rx\r\nhello\r\n0\r\n\r\n');
    expect((await send(client(whole.url), {})).error?.code).toBe('HPE_INVALID_CHUNK_SIZE');
    // The first part ends with the CR, in one write sent at once; the rest goes once the client has
    // read it (its chunk before reached the handler), and never brings the CRLF the line waits for.
    let nodeSide: net.Socket | null = null;
    const split = await node((_request, socket) => {
      nodeSide = socket;
      socket.setNoDelay(true);
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\r', 'latin1');
      return null;
    });
    const started = performance.now();
    const outcome = await send(client(split.url, { timeoutMs: 2_000 }), {}, (chunk) => {
      // Written from the read that brought the CR: the client takes the rest in a read of its own.
      if (chunk.toString('latin1') === 'abc') nodeSide!.write('xhello', 'latin1');
      return true;
    });
    expect(outcome).toMatchObject({ body: 'abc', error: expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }) });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('fails a head with a bare CR at once when the node stalls after it, as it fails the head read whole', async () => {
    const whole = await node(() => 'HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 0\r\n\r\n');
    expect((await send(client(whole.url), {})).error?.code).toBe('HPE_STRICT');
    // The first part ends with the CR, in one write sent at once; the byte after it goes once the
    // client has parsed that read, and the head's end never comes.
    const first = 'HTTP/1.1 200 OK\r\nX-A: b\r';
    let nodeSide: net.Socket | null = null;
    const split = await node((_request, socket) => {
      nodeSide = socket;
      socket.setNoDelay(true);
      socket.write(first, 'latin1');
      return null;
    });
    // Only looked at, to know when the client has read the CR: what it parses is left as it is.
    let read = 0;
    const execute = ResponseParser.prototype.execute;
    const reads = vi.spyOn(ResponseParser.prototype, 'execute').mockImplementation(function (this: ResponseParser, data) {
      read += data.length;
      if (read === first.length) nodeSide!.write('c', 'latin1');
      return execute.call(this, data);
    });
    try {
      const started = performance.now();
      const outcome = await send(client(split.url, { timeoutMs: 2_000 }), {});
      expect(outcome).toMatchObject({ status: 0, error: expect.objectContaining({ code: 'HPE_STRICT' }) });
      expect(performance.now() - started).toBeLessThan(2_000);
      // The byte after the CR came in a read of its own.
      expect(reads.mock.calls.at(-1)![0].length).toBe(1);
      expect(read).toBe(first.length + 1);
    } finally {
      reads.mockRestore();
    }
  });

  it('does not reuse a connection after a 204 that declared a body: the node may send it late, before the next answer', async () => {
    const owing = new WeakSet<net.Socket>();
    const up = await node((request, socket) => {
      if (!request.startsWith('GET /empty ')) return `${owing.has(socket) ? 'late!' : ''}${OK('next')}`;
      owing.add(socket);
      return 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n';
    });
    const c = client(up.url);
    expect(await send(c, { path: '/empty' })).toMatchObject({ status: 204, body: '', error: null });
    expect(await send(c, { path: '/next' })).toMatchObject({ status: 200, body: 'next', error: null });
    expect(up.connections).toBe(2);
  });

  it('does not reuse a connection that sent bytes nobody asked for', async () => {
    const up = await node(() => `${OK('one')}HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra`);
    const c = client(up.url);
    expect((await send(c, {})).body).toBe('one');
    expect((await send(c, {})).body).toBe('one');
    expect(up.connections).toBe(2);
  });

  it('fails with undici codes: a close mid-body, a refused connection, a silent node', async () => {
    const cut = await node((_request, socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      return null;
    });
    expect((await send(client(cut.url), {})).error?.code).toBe('UND_ERR_SOCKET');
    const closed = await node(() => null);
    const port = new URL(closed.url).port;
    await closed.close();
    expect((await send(client(`http://127.0.0.1:${port}`), {})).error?.code).toBe('ECONNREFUSED');
    const silent = await node(() => null);
    const started = performance.now();
    expect((await send(client(silent.url, { timeoutMs: 200 }), {})).error?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
  });

  it("sweeps every pool of a thread with one timer per timeout, and stops it when the last pool's connections are gone", async () => {
    const intervals = vi.spyOn(globalThis, 'setInterval');
    const cleared = vi.spyOn(globalThis, 'clearInterval');
    try {
      const silent = await node(() => null);
      // A timeout no other test uses: its sweep starts here.
      const pools = [0, 1, 2].map(() => client(silent.url, { timeoutMs: 333 }));
      const started = performance.now();
      const outcomes = await Promise.all(pools.map((pool) => send(pool, {})));
      // Each pool's request still times out on its own.
      expect(outcomes.map((o) => o.error?.code)).toEqual(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);
      expect(performance.now() - started).toBeGreaterThanOrEqual(333);
      expect(intervals.mock.calls.filter(([, ms]) => ms === 333 / 4)).toHaveLength(1);
      const sweep = intervals.mock.results.find((_, i) => intervals.mock.calls[i]![1] === 333 / 4)!.value as NodeJS.Timeout;
      await Promise.all(pools.map((pool) => pool.close()));
      expect(cleared.mock.calls.filter(([timer]) => timer === sweep)).toHaveLength(1);
    } finally {
      intervals.mockRestore();
      cleared.mockRestore();
    }
  });

  it('fails a body that stalls as a body timeout, but never an answer its handler paused', async () => {
    const stalls = await node((_request, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      return null;
    });
    expect((await send(client(stalls.url, { timeoutMs: 200 }), {})).error?.code).toBe('UND_ERR_BODY_TIMEOUT');
    const whole = await node(() => OK('x'.repeat(200_000)));
    let paused = false;
    const outcome = await send(client(whole.url, { timeoutMs: 100 }), {}, (_chunk, resume) => {
      if (paused) return true;
      paused = true;
      // Held three timeouts long: the client is slow, not the node.
      setTimeout(resume, 300);
      return false;
    });
    expect(outcome).toMatchObject({ error: null });
    expect(outcome.body.length).toBe(200_000);
  });

  it.each([
    ['a head a byte at a time', ['HTTP/1.1 200 OK\r\nX-Pad: ', 'a']],
    ['1xx heads one after another', ['', 'HTTP/1.1 100 Continue\r\n\r\n']],
  ])('fails %s as a headers timeout: only body bytes are progress', async (_name, [start, repeated]) => {
    const trickles = await node((_request, socket) => {
      socket.write(start!);
      const ticker = setInterval(() => socket.write(repeated!), 20);
      socket.on('close', () => clearInterval(ticker));
      return null;
    });
    const started = performance.now();
    expect((await send(client(trickles.url, { timeoutMs: 200 }), {})).error?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('does not reuse a connection whose request was not written whole when its answer came', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      const first = ++connections === 1;
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        // The first answers at the head and reads no more: the body stays in the gateway's queue.
        if (first) socket.pause();
        else socket.on('data', () => {});
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const c = client(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { connections: 1, timeoutMs: 2_000 });
      const upload = send(c, { method: 'POST', body: Buffer.alloc(16 * 1024 * 1024, 'b') });
      const next = send(c, { path: '/next' });
      expect(await upload).toMatchObject({ body: 'ok', error: null });
      // On the first connection it would be written behind the rest of the body, which its node takes as a request.
      expect(await next).toMatchObject({ body: 'ok', error: null });
      expect(connections).toBe(2);
    } finally {
      server.close();
    }
  });

  it.each([
    ['sends bytes nobody asked for', (socket: net.Socket) => socket.write(OK('not yours'))],
    ['closes the connection', (socket: net.Socket) => socket.end()],
  ])('sends the next request on another connection when, its answer ended in bytes kept through a pause, the node %s meanwhile', async (_what, meanwhile) => {
    // A bell rings once the node has done it: the handler resumes from that I/O callback, as the
    // gateway's exchange resumes from uWS's writable event, so the request waiting for the
    // connection is given it in that turn, while what the node did is still unread on the socket:
    // it must not take those bytes for its answer, nor fail.
    let bellSide: net.Socket | null = null;
    const bell = net.createServer((side) => (bellSide = side));
    await new Promise<void>((resolve) => bell.listen(0, '127.0.0.1', resolve));
    const ring = net.connect((bell.address() as net.AddressInfo).port, '127.0.0.1');
    try {
      await expect.poll(() => bellSide !== null).toBe(true);
      const up = await node((request, socket) => {
        if (!request.startsWith('GET /paused ')) return OK('yours');
        // Two chunks in one write: the handler pauses at the first; the second and the end are kept.
        setTimeout(() => {
          meanwhile(socket);
          setTimeout(() => bellSide!.write('!'), 20);
        }, 20);
        return 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n3\r\ntwo\r\n0\r\n\r\n';
      });
      const c = client(up.url, { connections: 1 });
      let paused = false;
      const first = send(c, { path: '/paused' }, (_chunk, resume) => {
        if (paused) return true;
        paused = true;
        ring.once('data', resume);
        return false;
      });
      const next = send(c, { path: '/next' });
      expect(await first).toMatchObject({ body: 'onetwo', error: null });
      expect(await next).toMatchObject({ body: 'yours', error: null });
      expect(up.connections).toBe(2);
    } finally {
      ring.destroy();
      bell.close();
    }
  });

  it('opens a new connection when the node closed the idle one', async () => {
    let closes = 0;
    const up = await node((_request, socket) => {
      socket.once('close', () => closes++);
      // The answer, then the node closes the connection while it is idle.
      setImmediate(() => socket.end());
      return OK('once');
    });
    const c = client(up.url);
    expect((await send(c, {})).body).toBe('once');
    await expect.poll(() => closes).toBe(1);
    expect(await send(c, {})).toMatchObject({ body: 'once', error: null });
    expect(up.connections).toBe(2);
  });

  const closesAtOnce = [
    ['closes it (a FIN right behind the answer)', (socket: net.Socket, answer: string) => socket.end(answer)],
    [
      'resets it',
      (socket: net.Socket, answer: string) => {
        socket.write(answer);
        setImmediate(() => socket.resetAndDestroy());
      },
    ],
  ] as const;
  const bodies = [
    ['in hand', (n: number) => Buffer.from(String(n))],
    ['streamed', (n: number) => Readable.from([Buffer.from(String(n))])],
  ] as const;
  it.each(closesAtOnce.flatMap(([what, close]) => bodies.map(([kind, body]) => [what, kind, close, body] as const)))(
    'gives the next request another connection, unsent, when the node answers keep-alive and at once %s (a body %s)',
    async (_what, _kind, answerAndClose, body) => {
      // The close comes in a read after the answer's, once the pool has given the connection to the
      // request waiting for it: that request must not be written into the closing connection.
      const up = await node((_request, socket) => {
        answerAndClose(socket, OK('answered'));
        return null;
      });
      const c = client(up.url, { connections: 1 });
      const sent = [1, 2, 3].map((n) => send(c, { method: 'POST', body: body(n) }));
      for (const outcome of await Promise.all(sent)) expect(outcome).toMatchObject({ body: 'answered', error: null });
      // Each went out once, whole (a streamed body in one chunk), each on a connection of its own.
      expect(up.requests.map((request) => /\r\n\r\n(?:1\r\n)?(\d)/.exec(request)?.[1])).toEqual(['1', '2', '3']);
      expect(up.connections).toBe(3);
    },
  );

  it.each([
    ['a whole answer', 'resets', true],
    ['a whole answer', 'ends', true],
    ['an answer cut short', 'resets', false],
  ] as const)('reads %s kept through a pause when the node then %s the connection under a streamed upload', async (_answer, how, whole) => {
    // The node answers at the head, before reading the upload (an early 413): the answer in one
    // write, then its close. A reset, with the socket paused, is seen by the upload's next write.
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(`HTTP/1.1 413 Payload Too Large\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n${whole ? '0\r\n\r\n' : ''}`);
        setTimeout(() => (how === 'resets' ? socket.resetAndDestroy() : socket.end()), 10);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const body = new Readable({ read() {} });
    body.on('error', () => {});
    body.push(Buffer.alloc(1000, 'a'));
    const uploading = setInterval(() => body.push(Buffer.alloc(1000, 'b')), 5);
    try {
      const c = client(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { connections: 1 });
      // The client reads its first chunk, then pauses 100 ms: the rest, the answer's end in it, is kept.
      let paused = false;
      const outcome = await send(c, { method: 'POST', path: '/upload', body }, (_chunk, resume) => {
        if (paused) return true;
        paused = true;
        setTimeout(resume, 100);
        return false;
      });
      expect(outcome).toMatchObject({ status: 413, body: 'abcdef' });
      if (whole) expect(outcome.error).toBeNull();
      else expect(outcome.error?.message).toMatch(/ECONNRESET|EPIPE/);
    } finally {
      clearInterval(uploading);
      await new Promise((resolve) => server.close(resolve));
    }
  });

  /** A node that answers at the head, before reading the upload (an early 413), with `answer`, then resets. */
  async function earlyResetter(answer: string): Promise<{ url: string; close(): Promise<void> }> {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(answer);
        setTimeout(() => socket.resetAndDestroy(), 10);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  /** An upload that goes on (a chunk every 5 ms) until stopped. */
  function endlessUpload(): { body: Readable; stop(): void } {
    const body = new Readable({ read() {} });
    body.on('error', () => {});
    body.push(Buffer.alloc(1000, 'a'));
    const uploading = setInterval(() => body.push(Buffer.alloc(1000, 'b')), 5);
    return { body, stop: () => clearInterval(uploading) };
  }

  it('fails an answer cut short and kept through a pause once the handler, paused again on what was kept, resumes', async () => {
    // Cut right after a chunk's data: what is kept ends in body bytes, not at the answer's end.
    const up = await earlyResetter('HTTP/1.1 413 Payload Too Large\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef');
    const { body, stop } = endlessUpload();
    try {
      const c = client(up.url, { connections: 1 });
      // A slow client: each chunk fills its socket, which drains 100 ms later.
      const outcome = await send(c, { method: 'POST', path: '/upload', body }, (_chunk, resume) => {
        setTimeout(resume, 100);
        return false;
      });
      expect(outcome).toMatchObject({ status: 413, body: 'abcdef' });
      expect(outcome.error?.message).toMatch(/ECONNRESET|EPIPE/);
    } finally {
      stop();
      await up.close();
    }
  });

  it('fails a request whose kept answer waits for a resume when its pool is destroyed, and close() waits for it', async () => {
    const up = await earlyResetter('HTTP/1.1 413 Payload Too Large\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n');
    const { body, stop } = endlessUpload();
    try {
      const closing = client(up.url, { connections: 1 });
      // Paused at its first chunk only.
      let resumeFirst: (() => void) | null = null;
      const first = send(closing, { method: 'POST', path: '/upload', body }, (_chunk, resume) => {
        if (resumeFirst !== null) return true;
        resumeFirst = resume;
        return false;
      });
      await expect.poll(() => resumeFirst, { timeout: 5_000 }).not.toBeNull();
      // Meanwhile the node's reset is seen by the upload's write; the answer's end waits in what was kept.
      await new Promise((resolve) => setTimeout(resolve, 200));
      let closed = false;
      const whenClosed = closing.close().then(() => (closed = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(closed).toBe(false);
      resumeFirst!();
      expect(await first).toMatchObject({ status: 413, body: 'abcdef', error: null });
      await whenClosed;

      const destroyed = client(up.url, { connections: 1 });
      const { body: second, stop: stopSecond } = endlessUpload();
      const paused = send(destroyed, { method: 'POST', path: '/upload', body: second }, () => false);
      await new Promise((resolve) => setTimeout(resolve, 200));
      stopSecond();
      await destroyed.destroy();
      expect((await paused).error).toMatchObject({ code: 'UND_ERR_DESTROYED' });
    } finally {
      stop();
      await up.close();
    }
  });

  it('never writes a streamed upload that failed while held for its turn, and keeps the connection', async () => {
    const up = await node(() => OK('ok'));
    const c = client(up.url, { connections: 1 });
    expect((await send(c, {})).error).toBeNull();
    const body = new Readable({ read() {} });
    // The exchange listens so in the gateway: an 'error' heard by nobody would end the process.
    body.on('error', () => {});
    const failed = send(c, { method: 'POST', body });
    // Too large, say: it fails in the same turn it was given the connection.
    body.destroy(new Error('too large'));
    expect((await failed).error?.message).toBe('too large');
    expect((await send(c, {})).error).toBeNull();
    expect(up.requests.map((request) => request.split(' ')[0])).toEqual(['GET', 'GET']);
    expect(up.connections).toBe(1);
  });

  it("gives the connection of a streamed upload aborted while held to the request queued behind it, at the turn's end", async () => {
    const up = await node((request) => OK(/ (\S+) HTTP/.exec(request)![1]!));
    const c = client(up.url, { connections: 1 });
    expect((await send(c, {})).error).toBeNull();
    const body = new Readable({ read() {} });
    let abortUpload: (err?: Error) => void = () => {};
    const aborted = send(c, { method: 'POST', path: '/upload', body }, undefined, (abort) => (abortUpload = abort));
    const queued = send(c, { path: '/queued' });
    abortUpload();
    expect((await aborted).error).toMatchObject({ code: 'UND_ERR_ABORTED' });
    expect(await queued).toMatchObject({ body: '/queued', error: null });
    expect(up.requests.map((request) => request.split('\r\n')[0])).toEqual(['GET / HTTP/1.1', 'GET /queued HTTP/1.1']);
    expect(up.connections).toBe(1);
  });

  it('opens no connection for queued requests that all ended while they waited when the busy one closes', async () => {
    let busy: net.Socket | undefined;
    const up = await node((_request, socket) => {
      busy = socket;
      return null;
    });
    let lookups = 0;
    // Counts the connections the pool opens, as it opens them (a name is looked up per connection).
    const lookup: LookupFunction = (_host, options, callback) => {
      lookups++;
      dnsLookup('127.0.0.1', options, callback as never);
    };
    const c = new H1NodeClient(up.url.replace('127.0.0.1', 'localhost'), { connections: 1, timeoutMs: 10_000, connectTimeoutMs: 2_000, lookup });
    clients.push(c);
    const first = send(c, {});
    await expect.poll(() => up.requests.length).toBe(1);
    const calls: string[] = [];
    const leaving: UpstreamHandler & { wanted: boolean } = {
      wanted: true,
      onConnect: () => {
        calls.push('onConnect');
        return false;
      },
      onHeaders: () => calls.push('onHeaders') > 0,
      onData: () => calls.push('onData') > 0,
      onComplete: () => calls.push('onComplete'),
      onError: () => calls.push('onError'),
    };
    c.dispatch({ method: 'GET', path: '/left', headers: ['host', 'node'], body: null }, leaving);
    // Its client left while it waited for the one connection.
    leaving.wanted = false;
    busy!.destroy();
    expect((await first).error?.code).toBe('UND_ERR_SOCKET');
    expect(lookups).toBe(1);
    expect(calls).toEqual([]);
    // The next request gets a connection of its own.
    busy = undefined;
    const next = send(c, {});
    await expect.poll(() => up.requests.length).toBe(2);
    expect(lookups).toBe(2);
    busy!.write(OK('next'));
    expect(await next).toMatchObject({ body: 'next', error: null });
    expect(up.requests.some((request) => request.includes('/left'))).toBe(false);
  });

  it('writes the requests held whole at the end of their turn: one aborted within it never reaches the node, and its connection is kept', async () => {
    const up = await node((request) => OK(/ (\S+) HTTP/.exec(request)![1]!));
    const c = client(up.url, { connections: 3 });
    // Three idle connections, so that each request below is handed one at once.
    await Promise.all([1, 2, 3].map(() => send(c, { path: '/warm' })));
    expect(up.connections).toBe(3);
    let abortSecond: (err?: Error) => void = () => {};
    const first = send(c, { path: '/1' });
    const second = send(c, { path: '/2' }, undefined, (abort) => (abortSecond = abort));
    const third = send(c, { path: '/3', method: 'POST', body: Buffer.from('abc') });
    // Still the turn that sent them: the second's client leaves.
    abortSecond(new Error('client left'));
    expect((await second).error?.message).toBe('client left');
    expect(await first).toMatchObject({ body: '/1', error: null });
    expect(await third).toMatchObject({ body: '/3', error: null });
    expect(up.requests.slice(3).sort()).toEqual(['GET /1 HTTP/1.1\r\nhost: node\r\n\r\n', 'POST /3 HTTP/1.1\r\nhost: node\r\ncontent-length: 3\r\n\r\nabc']);
    // Nothing of it went out, so its connection is given back: three requests at once find three idle connections.
    const again = await Promise.all(['/4', '/5', '/6'].map((path) => send(c, { path })));
    expect(again.map((outcome) => outcome.body)).toEqual(['/4', '/5', '/6']);
    expect(up.connections).toBe(3);
    expect(up.closed).toBe(0);
  });

  it('gives a request held for its turn another connection, unsent, when the node speaks first on the one it had', async () => {
    let nodeSide: net.Socket | null = null;
    const up = await node((_request, socket) => {
      nodeSide = socket;
      return OK('warm');
    });
    const c = client(up.url, { connections: 1 });
    expect((await send(c, {})).body).toBe('warm');
    // In a timer's turn: the node's answer to nothing reaches the connection's receive queue at
    // once (loopback), then a request is handed the connection and held. The poll phase reads the
    // answer before the turn's end writes the request.
    await new Promise((resolve) => setTimeout(resolve, 1));
    nodeSide!.write(OK('nobody asked'), 'latin1');
    expect(await send(c, { path: '/held' })).toMatchObject({ body: 'warm', error: null });
    // The node talking out of turn had its connection closed, never written to.
    await expect.poll(() => up.closed, { timeout: 5_000 }).toBe(1);
    expect(up.requests).toEqual(['GET / HTTP/1.1\r\nhost: node\r\n\r\n', 'GET /held HTTP/1.1\r\nhost: node\r\n\r\n']);
    expect(up.connections).toBe(2);
  });

  it('aborts: before a byte is written, and in the middle of an answer', async () => {
    const up = await node(() => 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst');
    const c = client(up.url);
    const early = await send(c, {}, undefined, (abort) => abort(new Error('client left')));
    expect(early.error?.message).toBe('client left');
    let abortLater: (err?: Error) => void = () => {};
    const late = await send(
      c,
      {},
      () => {
        abortLater(new Error('client left late'));
        return true;
      },
      (abort) => (abortLater = abort),
    );
    expect(late).toMatchObject({ body: 'first', error: { message: 'client left late' } });
  });

  it('aborts inside onHeaders or onData on an answer that ends in the same read: the abort stands, nothing throws', async () => {
    // A status retry aborts from onHeaders; nginx's error pages come whole, with their length, in one read.
    const up = await node((request) =>
      request.startsWith('HEAD') ? 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 19\r\n\r\n' : request.includes('/empty') ? 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n' : 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 19\r\n\r\nno healthy upstream',
    );
    const c = client(up.url);
    const abortIn = (where: 'headers' | 'data', request: Partial<UpstreamRequest>): Promise<{ completed: boolean; error: Error | null }> =>
      new Promise((resolve) => {
        let abort: (err?: Error) => void = () => {};
        const handler: UpstreamHandler = {
          wanted: true,
          onConnect: (given) => {
            abort = given;
            return true;
          },
          onHeaders() {
            if (where === 'headers') abort(new Error('retried on another node'));
            return true;
          },
          onData() {
            if (where === 'data') abort(new Error('client left'));
            return true;
          },
          onComplete: () => resolve({ completed: true, error: null }),
          onError: (error) => resolve({ completed: false, error }),
        };
        c.dispatch({ method: 'GET', path: '/', headers: ['host', 'node'], body: null, ...request }, handler);
      });
    expect(await abortIn('headers', {})).toEqual({ completed: false, error: new Error('retried on another node') });
    expect(await abortIn('headers', { path: '/empty' })).toEqual({ completed: false, error: new Error('retried on another node') });
    expect(await abortIn('headers', { method: 'HEAD' })).toEqual({ completed: false, error: new Error('retried on another node') });
    expect(await abortIn('data', {})).toEqual({ completed: false, error: new Error('client left') });
    // Each aborted connection closed; the client goes on with a new one.
    expect((await send(c, {})).status).toBe(503);
    expect(up.connections).toBe(5);
  });

  it('closes an idle connection sooner than the node said it would', async () => {
    const up = await node(() => OK('short', 'Keep-Alive: timeout=1\r\n'));
    const c = client(up.url);
    await send(c, {});
    await send(c, {});
    // Its node keeps it 1 s: less than the 2 s margin, so it is never reused.
    expect(up.connections).toBe(2);
  });

  /** Ways a request takes an idle connection and hands it back with nothing written. */
  const goesNowhere = [
    ['its head is refused', (c: H1NodeClient) => void send(c, { headers: ['host', 'node', 'x-a', 'a\ufffdb'] })],
    [
      'its handler declines it',
      (c: H1NodeClient) => c.dispatch({ method: 'GET', path: '/declined', headers: ['host', 'node'], body: null }, { wanted: true, onConnect: () => false, onHeaders: () => true, onData: () => true, onComplete() {}, onError() {} }),
    ],
    [
      'it is aborted while held for its turn',
      (c: H1NodeClient) => {
        let abort: (err?: Error) => void = () => {};
        void send(c, { path: '/aborted' }, undefined, (given) => (abort = given));
        abort();
      },
    ],
    [
      'its streamed body fails while held for its turn',
      (c: H1NodeClient) => {
        const body = new Readable({ read() {} });
        body.on('error', () => {});
        void send(c, { method: 'POST', path: '/failed', body });
        body.destroy(new Error('too large'));
      },
    ],
  ] as const;
  it.each(goesNowhere)('closes an idle connection by the time since its last answer, however often a request takes it and writes nothing (%s)', async (_what, goNowhere) => {
    const up = await node(() => OK('short', 'Keep-Alive: timeout=3\r\n'));
    // A 100 ms sweep: the node keeps the connection 3 s, so it closes here 1 s after its answer.
    const c = client(up.url, { timeoutMs: 400 });
    expect((await send(c, {})).error).toBeNull();
    const taking = setInterval(() => goNowhere(c), 50);
    try {
      await vi.waitFor(() => expect(up.closed).toBe(1), { timeout: 2_500 });
    } finally {
      clearInterval(taking);
    }
    expect(up.requests).toHaveLength(1);
  });

  it('destroy() fails what waits; close() lets what runs finish', async () => {
    let hold: (() => void) | null = null;
    const up = await node((_request, socket) => {
      hold = () => socket.write(OK('late'));
      return null;
    });
    const c = client(up.url, { connections: 1 });
    const running = send(c, {});
    const waiting = send(c, {});
    await expect.poll(() => hold !== null).toBe(true);
    const closed = c.close();
    hold!();
    expect((await running).body).toBe('late');
    await expect.poll(() => up.requests.length).toBe(2);
    hold!();
    expect((await waiting).body).toBe('late');
    await closed;
    expect((await send(c, {})).error?.code).toBe('UND_ERR_CLOSED');
    const other = client(up.url, { connections: 1 });
    const first = send(other, {});
    const queued = send(other, {});
    await other.destroy();
    expect((await queued).error?.code).toBe('UND_ERR_DESTROYED');
    expect((await first).error?.code).toBe('UND_ERR_DESTROYED');
  });
});
