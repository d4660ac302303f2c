import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startGateway, type GatewayProcess } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { jsonBodies, rawExchange, statuses } from '../helpers/raw-http.js';

let backend: Backend;
let gateway: GatewayProcess;

beforeAll(async () => {
  backend = await startBackend('b', (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url })));
  });
  gateway = await startGateway({
    routes: [
      { prefix: '/static/', cluster: 'c', requireTenant: false },
      { prefix: '/api/', cluster: 'c' },
      { prefix: '/open/', cluster: 'c', requireTenant: false },
      // Stricter routes beside a lax catch-all: no spelling a backend reads as theirs may pass by them.
      { prefix: '/', cluster: 'c', requireTenant: false },
      { exact: '/login', cluster: 'c' },
      { prefix: '/admin/', cluster: 'c' },
      { prefix: '/café/', cluster: 'c' },
    ],
    clusters: { c: { nodes: [{ id: 'b', url: backend.url }] } },
  });
});

afterAll(async () => {
  expect(await gateway?.stop()).toBe(0);
  await backend?.close();
});

const seenUrls = (): string[] => backend.seen.map((r) => r.url);
const firstAnswer = (text: string) => ({ status: statuses(text)[0] ?? 0, text: JSON.stringify(jsonBodies(text)[0] ?? {}) });

describe('request smuggling through a refused head', () => {
  const smuggled = 'GET /open/smuggled HTTP/1.1\r\nHost: a\r\n\r\n';

  it('never parses or forwards a request hidden behind duplicate Content-Lengths: the connection closes', async () => {
    const payload = `POST /open/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`;
    const { text, closedByPeer } = await rawExchange(gateway.port, payload, 3_000);
    expect(closedByPeer).toBe(true);
    // No 200 for the hidden request: at most the 400 for the first one.
    expect(statuses(text).filter((s) => s !== 400)).toEqual([]);
    expect(seenUrls()).not.toContain('/open/smuggled');
    expect(seenUrls()).not.toContain('/open/x');
  });

  it('answers 400 ERR_BAD_FRAMING to a bad head sent alone, then closes: bytes sent after it are not read', async () => {
    const socket = connect(gateway.port, '127.0.0.1');
    let text = '';
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    socket.write('POST /open/x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n');
    await expect.poll(() => statuses(text)).toEqual([400]);
    socket.write(smuggled);
    await closed;
    expectError(firstAnswer(text), 'ERR_BAD_FRAMING');
    expect(statuses(text)).toEqual([400]);
    expect(seenUrls()).not.toContain('/open/smuggled');
  });

  it('closes after a Host or header-size refusal too, and keeps serving other connections', async () => {
    for (const head of ['GET /open/x HTTP/1.1\r\nHost: a b\r\n\r\n', `GET /open/x HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(17_000)}\r\n\r\n`]) {
      const { text, closedByPeer } = await rawExchange(gateway.port, head + smuggled, 3_000);
      expect(closedByPeer).toBe(true);
      expect(statuses(text).filter((s) => s !== 400 && s !== 431)).toEqual([]);
    }
    expect(seenUrls()).not.toContain('/open/smuggled');
    expect((await send(gateway.port, '/open/after')).status).toBe(200);
  });
});

describe('CONNECT', () => {
  // A node's 2xx to it would make a pooled connection a tunnel, and the next client's request would go into it.
  // One in authority form (host:port), its usual form, never reaches the gateway: uWS answers no
  // target that is not a path (test/uws-limits/).
  it('refuses one with a path with 501 ERR_METHOD_NOT_SUPPORTED, closing, and never forwards it', async () => {
    const before = backend.seen.length;
    const { text, closedByPeer } = await rawExchange(gateway.port, 'CONNECT /open/x HTTP/1.1\r\nHost: a:443\r\n\r\n', 3_000);
    expectError(firstAnswer(text), 'ERR_METHOD_NOT_SUPPORTED');
    expect(closedByPeer).toBe(true);
    expect(backend.seen.length).toBe(before);
  });
});

describe('TRACE', () => {
  // It would echo the request, cookies and credentials included; an intermediary must count
  // Max-Forwards down and answer itself at 0 (RFC 9110 §7.6.2). Refused, as nginx refuses it.
  it('refuses it with 501 ERR_METHOD_NOT_SUPPORTED and never forwards it', async () => {
    const before = backend.seen.length;
    const { text } = await rawExchange(gateway.port, 'TRACE /open/x HTTP/1.1\r\nHost: a\r\nCookie: secret=1\r\nMax-Forwards: 0\r\n\r\n', 3_000);
    expectError(firstAnswer(text), 'ERR_METHOD_NOT_SUPPORTED');
    expect(text).not.toContain('secret=1');
    expect(backend.seen.length).toBe(before);
  });
});

describe('Host header', () => {
  it.each([['rt test'], ['rt.test/../admin'], ['user@rt.test'], [''], ['rt.test:99999'], ['rt.test:x'], ['[::1'], ['[not-ipv6]:80']])(
    'refuses %j with 400 ERR_BAD_HOST and forwards nothing',
    async (host) => {
      const before = backend.seen.length;
      const { text, closedByPeer } = await rawExchange(gateway.port, `GET /open/host HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 3_000);
      expectError(firstAnswer(text), 'ERR_BAD_HOST');
      expect(closedByPeer).toBe(true);
      expect(backend.seen.length).toBe(before);
    },
  );

  it.each([['rt.test'], ['rt.test:8080'], ['127.0.0.1:80'], ['[::1]:8080'], ['[2001:db8::7]'], ['xn--bcher-kva.example'], ['a-b_c~d.%41']])(
    'forwards %j as it came',
    async (host) => {
      const reply = await send(gateway.port, '/open/host-ok', { headers: { host } });
      expect(reply.status).toBe(200);
      expect(backend.seen.at(-1)!.headers.host).toBe(host);
      expect(backend.seen.at(-1)!.headers['x-forwarded-host']).toBe(host);
    },
  );
});

describe('paths', () => {
  it.each([
    ['/static/../api/x', '/api/x'],
    ['/static/%2e%2e/api/x', '/api/x'],
    ['/static/.%2E/api/x', '/api/x'],
    // Spellings a backend may read as /api/x: they match /api/ too, and go on as the client spelled them.
    ['/%61pi/x', '/%61pi/x'],
    ['/api//x', '/api//x'],
    // But for a leading run of slashes: `//api/x` is scheme-relative to a backend parsing URLs.
    ['//api//x', '/api//x'],
  ])('matches %s as /api/ and forwards it as %s: the tenant the /api/ route needs is required', async (path, normalized) => {
    expectError(await rawReply(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`), 'ERR_MISSING_TENANT');
    const reply = await send(gateway.port, path, { tenant: 'acme' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ url: normalized });
  });

  it('removes dot segments and keeps the query', async () => {
    const reply = await send(gateway.port, '/open/a/./b/../c/?q=/../x');
    expect(JSON.parse(reply.text)).toEqual({ url: '/open/a/c/?q=/../x' });
    expect(JSON.parse((await send(gateway.port, '/open/a/b/..')).text)).toEqual({ url: '/open/a/' });
  });

  // Targets that are no path ("*", an absolute URI) never reach the gateway: uWS answers them not at
  // all and closes them at its idle deadline (test/uws-limits/).
  it('forwards an encoded slash in data as it is', async () => {
    expect(JSON.parse((await send(gateway.port, '/open/projects/group%2Fname')).text)).toEqual({ url: '/open/projects/group%2Fname' });
  });

  it.each([['/..'], ['/open/../../etc/passwd'], ['/%2e%2e/open/x'], ['/open/%2E./..'], ['/static/..%2fapi/x'], ['/static/x%2F..%2F..%2Fapi/x'], ['/static/..%5Capi/x'], ['/static/..;/api/x']])(
    'refuses %s, which climbs above the root or hides a dot segment, with 400 ERR_BAD_PATH',
    async (path) => {
      const before = backend.seen.length;
      const { text, closedByPeer } = await rawExchange(gateway.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`, 3_000);
      expectError(firstAnswer(text), 'ERR_BAD_PATH');
      expect(closedByPeer).toBe(true);
      expect(backend.seen.length).toBe(before);
    },
  );
});

describe('spellings a backend reads as a stricter route', () => {
  it.each([['/login#'], ['/login#x'], ['/admin/x#/']])('refuses %s, whose "#" a backend parsing URLs ends the path at, with 400 ERR_BAD_PATH', async (path) => {
    const before = backend.seen.length;
    const { text, closedByPeer } = await rawExchange(gateway.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`, 3_000);
    expectError(firstAnswer(text), 'ERR_BAD_PATH');
    expect(closedByPeer).toBe(true);
    expect(backend.seen.length).toBe(before);
  });

  // WHATWG URL reads each of these as the stricter route's path (/café/x, /admin/x): they get its rules.
  it.each([
    ['/caf%C3%A9/x', '/caf%C3%A9/x'],
    ['/caf%c3%a9/x', '/caf%c3%a9/x'],
    ['/admin\\x', '/admin\\x'],
    ['/\\admin/x', '/admin/x'],
  ])('matches %s by the route a backend reads it as, forwarded as %s', async (path, forwarded) => {
    const before = backend.seen.length;
    expectError(await rawReply(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`), 'ERR_MISSING_TENANT');
    expect(backend.seen.length).toBe(before);
    const { text } = await rawExchange(gateway.port, `GET ${path} HTTP/1.1\r\nHost: a\r\nx-tenant-id: acme\r\n\r\n`, 3_000, (t) => t.endsWith('\r\n0\r\n\r\n'));
    expect(firstAnswer(text).status).toBe(200);
    // Forwarded as the client spelled it, but for a leading run of separators.
    expect(seenUrls().at(-1)).toBe(forwarded);
  });

  // WHATWG URL reads `//open/admin/x` as host `open`, path `/admin/x`: the node must get the path the gateway routed.
  it.each([['//open/admin/x'], ['/\\open/admin/x'], ['///open/admin/x'], ['/.//open/admin/x'], ['/a/..//open/admin/x']])('forwards %s, routed as /open/, with one leading slash', async (path) => {
    const { text } = await rawExchange(gateway.port, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`, 3_000, (t) => t.endsWith('\r\n0\r\n\r\n'));
    expect(firstAnswer(text).status).toBe(200);
    expect(seenUrls().at(-1)).toBe('/open/admin/x');
  });

  it('matches a route written past ASCII when the path comes raw, as the client spelled it', async () => {
    expectError(await rawReply('GET /café/x HTTP/1.1\r\nHost: a\r\n\r\n'), 'ERR_MISSING_TENANT');
  });
});

/** The first answer on a fresh connection, sent as raw bytes (the path exactly as written). */
async function rawReply(payload: string): Promise<{ status: number; text: string }> {
  const { text } = await rawExchange(gateway.port, payload, 1_000);
  return firstAnswer(text);
}
