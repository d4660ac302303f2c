import { Buffer } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERRORS, type AnsweredCode } from '../errors.js';
import type { PushOutcome } from './control-plane.js';
import { answerAsset, loadDashboardAssets } from './dashboard-assets.js';
import type { Logger } from '../log.js';
import type { TenantOrder } from './tenant-view.js';

export interface AdminRoutes {
  metrics(): Promise<{ contentType: string; body: string }>;
  /**
   * GET /tenants?top=N&by=score|requests: the top N tenants (1 to MAX_TOP, default DEFAULT_TOP)
   * by score (the default) or by requests in the last window.
   */
  tenants(top: number, order: TenantOrder): unknown;
  /** GET /v1/nodes: every node's health, weight, points, zone, slow start, in-flight and why it is in or out. */
  nodes(): unknown;
  /** POST /v1/nodes: a control-plane push (already authorized, parsed from JSON). */
  pushNodes(body: unknown): PushOutcome;
  /** POST /v1/reload (already authorized): the config read again and applied, or why not. */
  reload(): { ok: true; needRestart: readonly string[] } | { ok: false; error: string };
  /** GET /tenants/<id>: one tenant with its last windows; undefined (404) when it is not tracked. */
  tenant(id: string): object | undefined;
  /** GET /v1/dashboard: what the /dashboard page shows, in one read (dashboard-state.ts). */
  dashboard(): unknown;
}

const DEFAULT_TOP = 20;
const MAX_TOP = 1000;

function tenantsQuery(url: string): { top: number; order: TenantOrder } {
  const params = new URL(url, 'http://admin').searchParams;
  const raw = params.get('top');
  // Number('') is 0: an empty `top=` is no number, not a request for one tenant.
  const top = raw === null || raw.trim() === '' ? DEFAULT_TOP : Number(raw);
  return {
    top: Number.isInteger(top) ? Math.min(MAX_TOP, Math.max(1, top)) : DEFAULT_TOP,
    order: params.get('by') === 'requests' ? 'requests' : 'score',
  };
}

const TENANT_PATH = /^\/tenants\/([^/]+)$/;

/** The methods each admin path answers (HEAD as GET: node:http sends the head alone), for 405's Allow. */
function allowedMethods(path: string, assets: ReadonlyMap<string, unknown>): string | undefined {
  if (path === '/v1/nodes') return 'GET, HEAD, POST';
  if (path === '/v1/reload') return 'POST';
  const read = path === '/metrics' || path === '/v1/dashboard' || path === '/tenants' || TENANT_PATH.test(path) || assets.has(path);
  return read ? 'GET, HEAD' : undefined;
}

/** Tenant ids need no escaping, but a client may escape ':' anyway; an undecodable one names no tenant. */
function tenantIdOf(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Who may call the admin endpoints. Those that change state want the token when one is set, and
 * without one are refused unless the server listens on loopback only; beyond loopback the read
 * endpoints want it too (metrics and tenant ids are not for whoever reaches the port). The
 * dashboard's page, script and stylesheet carry no data: they are served to anyone, and the page
 * sends the token with its reads.
 */
export interface WriteAccess {
  /** GATEWAY_ADMIN_TOKEN: required as `Authorization: Bearer <token>` when set. */
  readonly token: string | undefined;
  /** The admin server listens on loopback only. */
  readonly loopback: boolean;
}

/** Host values naming a loopback admin server itself: 127.x.y.z, localhost or [::1], with a port or not. */
const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d{1,5})?$/;

/**
 * On loopback, a request without the token is trusted for reads (and, without a token set, for
 * writes), and a web page open in the operator's browser reaches it too (the dashboard invites that
 * browser there). Such a page is told apart: a DNS-rebinding page's requests name its own host,
 * and a cross-site POST carries its Origin. Clients that are not browsers (curl, a control plane)
 * send neither. A request with the token is the operator's, whatever page sent it.
 */
function fromForeignPage(req: IncomingMessage, access: WriteAccess): boolean {
  if (!access.loopback || (access.token !== undefined && refusal(req, access) === null)) return false;
  const host = req.headers.host ?? '';
  if (!LOOPBACK_HOST.test(host)) return true;
  const origin = req.headers.origin;
  return origin !== undefined && origin !== `http://${host}`;
}

/** The largest admin request body read: a push for ~50,000 nodes. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

function answerJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function answerError(res: ServerResponse, code: AnsweredCode, error: string = ERRORS[code].message): void {
  answerJson(res, ERRORS[code].status, { error, code });
}

function refusal(req: IncomingMessage, access: WriteAccess): AnsweredCode | null {
  if (access.token === undefined) return access.loopback ? null : 'ERR_ADMIN_FORBIDDEN';
  // Digests of equal length: the comparison's time tells nothing, not even the token's length.
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(req.headers.authorization ?? ''), digest(`Bearer ${access.token}`)) ? null : 'ERR_ADMIN_UNAUTHORIZED';
}

/** The request's JSON body, or why there is none to use. */
async function readJson(req: IncomingMessage): Promise<{ body: unknown } | { error: string }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) return { error: `(body): over ${MAX_BODY_BYTES} bytes` };
    chunks.push(chunk);
  }
  try {
    return { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch (err) {
    return { error: `(body): not JSON: ${(err as Error).message}` };
  }
}

async function pushNodes(req: IncomingMessage, res: ServerResponse, routes: AdminRoutes, access: WriteAccess): Promise<void> {
  const refused = refusal(req, access);
  if (refused !== null) {
    req.resume();
    return answerError(res, refused);
  }
  const read = await readJson(req);
  if ('error' in read) return answerError(res, 'ERR_BAD_PUSH', read.error);
  const outcome = routes.pushNodes(read.body);
  if (outcome.ok) answerJson(res, 200, { applied: outcome.applied });
  else answerError(res, outcome.code, outcome.error);
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Admin HTTP server (node:http: low traffic, main thread). Bound to 127.0.0.1 unless configured. */
export async function startAdminServer(host: string, port: number, routes: AdminRoutes, access: WriteAccess, log: Logger): Promise<AdminServer> {
  const assets = loadDashboardAssets();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const asset = method === 'GET' ? assets.get(path) : undefined;
    if (asset !== undefined) return answerAsset(res, asset);
    if (fromForeignPage(req, access)) {
      // With a token set, the token lets it in: 401 says so, and the dashboard page asks for it
      // (a 403 left a page opened under another host name, behind a proxy, with no way to give it).
      if (access.token !== undefined) return answerError(res, 'ERR_ADMIN_UNAUTHORIZED', 'an admin request from another site, or for another host name, needs the admin token');
      return answerError(res, 'ERR_ADMIN_FORBIDDEN', 'an admin request from another site, or for another host name, needs GATEWAY_ADMIN_TOKEN');
    }
    if (method === 'GET' && !access.loopback) {
      const refused = refusal(req, access);
      if (refused !== null) return answerError(res, refused);
    }
    if (method === 'GET' && path === '/metrics') {
      routes.metrics().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        (err: Error) => {
          log.error({ err }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'metrics collection failed', code: 'ERR_METRICS' }));
        },
      );
      return;
    }
    if (method === 'GET' && path === '/v1/nodes') return answerJson(res, 200, routes.nodes());
    if (method === 'GET' && path === '/v1/dashboard') return answerJson(res, 200, routes.dashboard());
    if (method === 'POST' && path === '/v1/nodes') {
      pushNodes(req, res, routes, access).catch((err: Error) => {
        log.warn({ err }, 'control-plane push failed');
        if (!res.headersSent) answerError(res, 'ERR_BAD_PUSH', `(body): ${err.message}`);
      });
      return;
    }
    if (method === 'POST' && path === '/v1/reload') {
      req.resume();
      const refused = refusal(req, access);
      if (refused !== null) return answerError(res, refused);
      const outcome = routes.reload();
      if (outcome.ok) answerJson(res, 200, { reloaded: true, needRestart: outcome.needRestart });
      else answerError(res, 'ERR_RELOAD_FAILED', outcome.error);
      return;
    }
    if (method === 'GET' && path === '/tenants') {
      const { top, order } = tenantsQuery(req.url ?? '/');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(routes.tenants(top, order)));
      return;
    }
    const tenantPath = method === 'GET' ? TENANT_PATH.exec(path) : null;
    if (tenantPath !== null) {
      const id = tenantIdOf(tenantPath[1]!);
      const tenant = id === undefined ? undefined : routes.tenant(id);
      if (tenant !== undefined) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tenant));
      else res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no such tenant', code: 'ERR_NO_ROUTE' }));
      return;
    }
    const allow = allowedMethods(path, assets);
    if (allow === undefined) return answerJson(res, 404, { error: 'no such admin path', code: 'ERR_NO_ROUTE' });
    req.resume();
    res.setHeader('allow', allow);
    answerError(res, 'ERR_METHOD_NOT_ALLOWED', `${path} takes ${allow}`);
  });
  await new Promise<void>((resolve, reject) => {
    // Said with the address: "getaddrinfo ENOTFOUND" alone does not say which setting holds it.
    server.once('error', (err) => reject(new Error(`the admin server cannot listen on ${host}:${port} (GATEWAY_ADMIN_HOST, GATEWAY_ADMIN_PORT): ${err.message}`)));
    server.listen(port, host, () => {
      server.removeAllListeners('error');
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
