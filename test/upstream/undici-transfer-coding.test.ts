import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamHandler } from '../../src/upstream/dispatcher.js';
import { UndiciDispatcher } from '../../src/upstream/undici-dispatcher.js';
import { classifyUpstreamError } from '../../src/acceptor/upstream-errors.js';

/** Answers each request with the head (and body) its path names. */
const ANSWERS: Record<string, string> = {
  '/gzip': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\ncoded',
  '/gzip-chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\ncoded\r\n0\r\n\r\n',
  '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nplain\r\n0\r\n\r\n',
};

let server: Server;
const sockets = new Set<Socket>();
const INTERIM_EVERY_MS = 100;
let origin = '';

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (d) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = head.split(' ')[1]!;
      head = head.slice(end + 4);
      if (path === '/processing') {
        // Interim heads for good, never an answer.
        const interim = setInterval(() => socket.write('HTTP/1.1 102 Processing\r\n\r\n'), INTERIM_EVERY_MS);
        socket.on('close', () => clearInterval(interim));
        return;
      }
      const answer = ANSWERS[path]!;
      if (answer.includes('Connection: close')) socket.end(answer);
      else socket.write(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface Outcome {
  status: number;
  body: string;
  error: string | null;
}

function fetchThrough(dispatcher: UndiciDispatcher, path: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const outcome: Outcome = { status: 0, body: '', error: null };
    const handler: UpstreamHandler = {
      wanted: true,
      onConnect: () => true,
      onHeaders: (status) => {
        // Interim heads are skipped, as the exchange skips them.
        if (status >= 200) outcome.status = status;
        return true;
      },
      onData: (chunk) => {
        outcome.body += chunk.toString('latin1');
        return true;
      },
      onComplete: () => resolve(outcome),
      onError: (err) => {
        outcome.error = classifyUpstreamError(err);
        resolve(outcome);
      },
    };
    dispatcher.dispatch({ path, method: 'GET', headers: ['host', 'a'], body: null }, handler);
  });
}

describe('UndiciDispatcher: transfer codings', () => {
  it.each(['/gzip', '/gzip-chunked'])('refuses an answer whose %s transfer coding it would hand on undone', async (path) => {
    const dispatcher = new UndiciDispatcher(new Pool(origin, { connections: 1 }), 1, 2000);
    try {
      const outcome = await fetchThrough(dispatcher, path);
      // Never the coded bytes passed off as the content (Transfer-Encoding is dropped on the way to the client).
      expect(outcome).toEqual({ status: 0, body: '', error: 'ERR_UPSTREAM_PROTOCOL' });
    } finally {
      await dispatcher.destroy();
    }
  });

  it('takes chunked, in any case, and the connection serves on', async () => {
    const dispatcher = new UndiciDispatcher(new Pool(origin, { connections: 1 }), 1, 2000);
    try {
      expect(await fetchThrough(dispatcher, '/chunked')).toEqual({ status: 200, body: 'plain', error: null });
      expect(await fetchThrough(dispatcher, '/chunked')).toEqual({ status: 200, body: 'plain', error: null });
    } finally {
      await dispatcher.destroy();
    }
  });
});

describe('UndiciDispatcher: interim heads', () => {
  it('times out a node that sends 1xx heads for good: undici would start its head timeout again at each', async () => {
    const timeoutMs = 5 * INTERIM_EVERY_MS;
    const dispatcher = new UndiciDispatcher(new Pool(origin, { connections: 1, headersTimeout: timeoutMs }), 1, timeoutMs);
    try {
      expect(await fetchThrough(dispatcher, '/processing')).toEqual({ status: 0, body: '', error: 'ERR_UPSTREAM_TIMEOUT' });
    } finally {
      await dispatcher.destroy();
    }
  });
});
