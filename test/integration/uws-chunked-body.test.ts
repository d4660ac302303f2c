import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

// uWebSockets.js 20.30 decodes a chunked request body itself, before JavaScript sees it, and reads
// a chunk line loosely: a chunk extension (`3;a=b`, which RFC 9112 §7.1.1 says to ignore) is read
// as more hex digits (`;` as b, `=` as d), so its chunk is taken as 0x3badb bytes, and the
// client's own framing bytes after it (the last chunk, the end) are handed on as body. The gateway cannot see the raw chunk lines to refuse them. Pinned here
// so that a uWS build that reads them right shows up; the README's uWS limits say what to do.

let backend: Backend;
let gateway: GatewayProcess;
const bodies = new Map<string, string>();

beforeAll(async () => {
  backend = await startBackend('chunked', (req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (chunk: string) => {
      body += chunk;
      bodies.set(req.url!, body);
    });
    req.on('end', () => res.writeHead(200).end('ok'));
  });
  gateway = await startGateway(
    { routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'n', url: backend.url }] } } },
    { GATEWAY_THREADS: '1' },
  );
});

afterAll(async () => {
  await gateway?.stop();
  await backend?.close();
});

describe('uWebSockets.js 20.30 limits: chunked request bodies', () => {
  it('hands a chunk extension\'s line on as body bytes, and waits for a chunk of 0x3badb bytes', async () => {
    const socket = connect(gateway.port, '127.0.0.1');
    let answered = '';
    socket.on('data', (data) => (answered += data.toString('latin1')));
    socket.write('POST /extension HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\n\r\n');
    try {
      await expect.poll(() => bodies.get('/extension'), { timeout: 5_000 }).toBe('abc\r\n0\r\n\r\n');
      // The upload is still open as far as uWS is concerned: no answer came.
      expect(answered).toBe('');
    } finally {
      socket.destroy();
    }
    // The thread serves on.
    expect((await send(gateway.port, '/after')).status).toBe(200);
  });

  it('forwards a chunked body without extensions as sent', async () => {
    const res = await fetch(`http://127.0.0.1:${gateway.port}/plain`, {
      method: 'POST',
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('abc'));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(bodies.get('/plain')).toBe('abc');
  });
});
