import { lookup as dnsLookup } from 'node:dns';
import net, { type LookupFunction } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamHandler } from '../../src/upstream/dispatcher.js';
import { H1NodeClient } from '../../src/upstream/h1/node-client.js';

/** A node on 127.0.0.1: records each request's path, as it reads it, and answers it at once, but `/slow` only on answerSlow(). */
interface Node {
  readonly port: number;
  readonly paths: string[];
  connections: number;
  answerSlow(): void;
  close(): Promise<void>;
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

async function startNode(): Promise<Node> {
  const sockets = new Set<net.Socket>();
  let slow: net.Socket | null = null;
  const node = { paths: [] as string[], connections: 0 };
  const server = net.createServer((socket) => {
    node.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket)).on('error', () => {});
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const path = buffered.slice(0, end).split(' ')[1]!;
        buffered = buffered.slice(end + 4);
        node.paths.push(path);
        if (path === '/slow') slow = socket;
        else socket.write(OK);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(node, {
    port: (server.address() as net.AddressInfo).port,
    answerSlow: () => slow!.write(OK),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** A request's handler: `ended` resolves with its error (null: its answer ended). `then` runs as it ends. */
function handler(then: () => void = () => {}): UpstreamHandler & { ended: Promise<(Error & { code?: string }) | null> } {
  let end: (err: Error | null) => void = () => {};
  const ended = new Promise<Error | null>((resolve) => (end = resolve));
  return {
    wanted: true,
    ended,
    onConnect: () => true,
    onHeaders: () => true,
    onData: () => true,
    onComplete: () => {
      end(null);
      then();
    },
    onError: (err) => end(err),
  };
}

const get = (path: string) => ({ method: 'GET', path, headers: ['host', 'node'], body: null });

let node: Node;
let client: H1NodeClient;

afterEach(async () => {
  await client?.destroy();
  await node?.close();
});

function newClient(lookup?: LookupFunction): H1NodeClient {
  client = new H1NodeClient(`http://${lookup === undefined ? '127.0.0.1' : 'node.test'}:${node.port}`, { connections: 1, timeoutMs: 10_000, connectTimeoutMs: 5_000, lookup });
  return client;
}

describe('H1NodeClient.cutUnwritten (a drain deadline)', () => {
  it('fails a request held for the turn’s end, unsent, and the node never reads it', async () => {
    node = await startNode();
    const c = newClient();
    const first = handler();
    c.dispatch(get('/first'), first);
    expect(await first.ended).toBeNull();
    const held = handler();
    c.dispatch(get('/held'), held);
    c.cutUnwritten();
    expect((await held.ended)?.code).toBe('UND_ERR_ABORTED');
    // A request after it shows the node read nothing in between.
    const after = handler();
    c.dispatch(get('/after'), after);
    expect(await after.ended).toBeNull();
    expect(node.paths).toEqual(['/first', '/after']);
  });

  it('fails a request parked a turn more (given the connection in the turn its last answer ended), unsent', async () => {
    node = await startNode();
    const c = newClient();
    const parked = handler();
    let cut: Promise<void> | undefined;
    // Given the connection as the first answer ends: it waits past this turn's writes, and the cut comes meanwhile.
    const first = handler(() => {
      c.dispatch(get('/parked'), parked);
      cut = new Promise((resolve) => setImmediate(() => resolve(c.cutUnwritten())));
    });
    c.dispatch(get('/first'), first);
    expect(await first.ended).toBeNull();
    await cut;
    expect((await parked.ended)?.code).toBe('UND_ERR_ABORTED');
    const after = handler();
    c.dispatch(get('/after'), after);
    expect(await after.ended).toBeNull();
    expect(node.paths).toEqual(['/first', '/after']);
  });

  it('fails a request on a connection still opening, which never reaches the node though it could open after', async () => {
    node = await startNode();
    const lookups: (() => void)[] = [];
    // Each connection's lookup answers when the test says: the connection is opening until then.
    const c = newClient(((_host, options, callback) => lookups.push(() => dnsLookup('127.0.0.1', options, callback as never))) as LookupFunction);
    const opening = handler();
    c.dispatch(get('/opening'), opening);
    // Past the turn's end: written, but only into the socket's queue, as it has not connected.
    await new Promise((resolve) => setImmediate(resolve));
    expect(lookups).toHaveLength(1);
    c.cutUnwritten();
    expect((await opening.ended)?.code).toBe('UND_ERR_ABORTED');
    lookups[0]!();
    // A request on a connection of its own, once it ended, shows the first never opened.
    const after = handler();
    c.dispatch(get('/after'), after);
    await expect.poll(() => lookups.length).toBe(2);
    lookups[1]!();
    expect(await after.ended).toBeNull();
    expect([node.connections, node.paths]).toEqual([1, ['/after']]);
  });

  it('lets a request written to an open socket go on to its answer', async () => {
    node = await startNode();
    const c = newClient();
    const slow = handler();
    c.dispatch(get('/slow'), slow);
    await expect.poll(() => node.paths).toEqual(['/slow']);
    c.cutUnwritten();
    node.answerSlow();
    expect(await slow.ended).toBeNull();
  });
});
