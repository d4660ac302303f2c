import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';

export interface AdminRoutes {
  metrics(): Promise<{ contentType: string; body: string }>;
  /** GET /tenants?top=N: the busiest tenants (N from 1 to MAX_TOP, default DEFAULT_TOP). */
  tenants(top: number): unknown;
}

const DEFAULT_TOP = 20;
const MAX_TOP = 1000;

function topParameter(url: string): number {
  const raw = new URL(url, 'http://admin').searchParams.get('top');
  const top = raw === null ? DEFAULT_TOP : Number(raw);
  return Number.isInteger(top) ? Math.min(MAX_TOP, Math.max(1, top)) : DEFAULT_TOP;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Admin HTTP server (node:http: low traffic, main thread). Bound to 127.0.0.1 unless configured. */
export async function startAdminServer(host: string, port: number, routes: AdminRoutes, log: Logger): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' && path === '/metrics') {
      routes.metrics().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        (err: Error) => {
          log.error({ err }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'metrics collection failed', code: 'ERR_METRICS' }));
        },
      );
      return;
    }
    if (req.method === 'GET' && path === '/tenants') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(routes.tenants(topParameter(req.url ?? '/'))));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no such admin path', code: 'ERR_NO_ROUTE' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
