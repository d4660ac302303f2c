import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { TenantOrder } from './tenant-tracker.js';

export interface AdminRoutes {
  metrics(): Promise<{ contentType: string; body: string }>;
  /**
   * GET /tenants?top=N&by=score|requests: the top N tenants (1 to MAX_TOP, default DEFAULT_TOP)
   * by score (the default) or by requests in the last window.
   */
  tenants(top: number, order: TenantOrder): unknown;
  /** GET /v1/nodes: every node's health, weight, points, zone, slow start, in-flight and why it is in or out. */
  nodes(): unknown;
  /** GET /tenants/<id>: one tenant with its last windows; undefined (404) when it is not tracked. */
  tenant(id: string): object | undefined;
}

const DEFAULT_TOP = 20;
const MAX_TOP = 1000;

function tenantsQuery(url: string): { top: number; order: TenantOrder } {
  const params = new URL(url, 'http://admin').searchParams;
  const raw = params.get('top');
  const top = raw === null ? DEFAULT_TOP : Number(raw);
  return {
    top: Number.isInteger(top) ? Math.min(MAX_TOP, Math.max(1, top)) : DEFAULT_TOP,
    order: params.get('by') === 'requests' ? 'requests' : 'score',
  };
}

const TENANT_PATH = /^\/tenants\/([^/]+)$/;

/** Tenant ids need no escaping, but a client may escape ':' anyway; an undecodable one names no tenant. */
function tenantIdOf(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Admin HTTP server (node:http: low traffic, main thread). Bound to 127.0.0.1 unless configured. */
export async function startAdminServer(host: string, port: number, routes: AdminRoutes, log: Logger): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
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
    if (req.method === 'GET' && path === '/v1/nodes') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(routes.nodes()));
      return;
    }
    if (req.method === 'GET' && path === '/tenants') {
      const { top, order } = tenantsQuery(req.url ?? '/');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(routes.tenants(top, order)));
      return;
    }
    const tenantPath = req.method === 'GET' ? TENANT_PATH.exec(path) : null;
    if (tenantPath !== null) {
      const id = tenantIdOf(tenantPath[1]!);
      const tenant = id === undefined ? undefined : routes.tenant(id);
      if (tenant !== undefined) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tenant));
      else res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no such tenant', code: 'ERR_NO_ROUTE' }));
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
