import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
}

export interface Backend {
  readonly id: string;
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Connections open to it now. */
  openConnections(): number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, id: string) => void;

/** Default behaviour: answer JSON naming the backend, after reading the whole request body. */
const identify: Handler = (req, res, id) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ backend: id }));
  });
};

/**
 * A real HTTP backend on 127.0.0.1 (or another loopback `host`) and an ephemeral port (or `port`,
 * to bring a closed one back), recording the requests it saw. `options` reach node:http, e.g. a
 * `maxHeaderSize` above its 16 KiB default, which answers 431 itself.
 */
export async function startBackend(id: string, handler: Handler = identify, options: ServerOptions = {}, port = 0, host = '127.0.0.1'): Promise<Backend> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer(options, (req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders });
    handler(req, res, id);
  });
  server.keepAliveTimeout = 30_000;
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    id,
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    seen,
    openConnections: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A TCP backend that answers each connection's first request with raw bytes of our choosing. */
export async function startRawBackend(reply: (socket: Socket, request: string) => void): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (d) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) reply(socket, head);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * An origin nothing listens on: connecting is refused. A port below 1024 (checked refused here):
 * the kernel hands out only ports of its ephemeral range to servers listening on port 0, so no
 * other test's server can take it meanwhile, as it could a closed ephemeral port.
 */
export async function deadOrigin(): Promise<string> {
  for (let port = 1; port < 1024; port++) {
    if (await refused(port)) return `http://127.0.0.1:${port}`;
  }
  throw new Error('every port below 1024 of 127.0.0.1 accepts connections');
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    // A firewall dropping loopback packets would leave the connect pending.
    socket.setTimeout(2_000, () => {
      socket.destroy();
      reject(new Error(`connecting to 127.0.0.1:${port} was neither accepted nor refused`));
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}
