import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ERRORS, type AnsweredCode } from '../errors.js';
import { BodyBudget, MAX_BODY_BYTES, readJson } from './admin-body.js';
import { answerClientError } from './admin-client-error.js';
import type { PushOutcome } from './control-plane.js';
import { answerAsset, loadDashboardAssets } from './dashboard-assets.js';
import type { Logger } from '../log.js';
import { isLoopbackAddress } from './listen-address.js';
import { logLaterErrors } from './listening-errors.js';
import { fromForeignPage, refusal, type WriteAccess } from './admin-access.js';
import { coalesced, METRICS_MIN_GAP_MS } from './coalesced.js';
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

/** A browser must not read an admin answer as anything but what it says it is, nor keep it. */
const ANSWER_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };
const JSON_HEADERS = { 'content-type': 'application/json', ...ANSWER_HEADERS };

function answerJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, JSON_HEADERS).end(JSON.stringify(body));
}

function answerError(res: ServerResponse, code: AnsweredCode, error: string = ERRORS[code].message): void {
  answerJson(res, ERRORS[code].status, { error, code });
}

async function pushNodes(req: IncomingMessage, res: ServerResponse, routes: AdminRoutes, access: WriteAccess, budget: BodyBudget): Promise<void> {
  const refused = refusal(req, access);
  if (refused !== null) {
    req.resume();
    return answerError(res, refused);
  }
  const read = await readJson(req, budget);
  if ('error' in read) {
    // When the held pushes end is not known (within requestMs): 1 s, as ERR_UPSTREAM_SATURATED says.
    if (read.code === 'ERR_PUSH_BUFFER_FULL') res.setHeader('retry-after', '1');
    return answerError(res, read.code, read.error);
  }
  const outcome = routes.pushNodes(read.body);
  if (outcome.ok) answerJson(res, 200, { applied: outcome.applied });
  else answerError(res, outcome.code, outcome.error);
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * How long and how many connections the admin server keeps. It shares the process's file
 * descriptors with the acceptor threads, and node:http by itself caps nothing and keeps a
 * connection that sends nothing (or trickles a head in) for 60 to 90 s: whoever reaches the port
 * (no token needed to connect) could hold every descriptor with one burst of connections a minute,
 * and the acceptors could then neither accept clients nor connect to nodes.
 */
export interface AdminLimits {
  /** A connection quiet this long (no byte either way) in the middle of a request is closed. */
  readonly idleMs: number;
  /**
   * A request head must be whole within this from the connection's opening (or, kept alive, from
   * the next request's first byte): a connection that sends nothing, or trickles a head in, is
   * answered 408 and closed.
   */
  readonly headMs: number;
  /** The whole request, body included (a push of up to MAX_BODY_BYTES). */
  readonly requestMs: number;
  /** Connections open at once; more are closed as they come. */
  readonly maxConnections: number;
  /** Bytes of push bodies held at once, all connections together (BodyBudget); a push past them is answered 503. */
  readonly maxBufferedBytes: number;
}

export const ADMIN_LIMITS: AdminLimits = { idleMs: 30_000, headMs: 10_000, requestMs: 60_000, maxConnections: 256, maxBufferedBytes: 4 * MAX_BODY_BYTES };

/** Admin HTTP server (node:http: low traffic, main thread). Bound to 127.0.0.1 unless configured. */
export async function startAdminServer(
  host: string,
  port: number,
  routes: AdminRoutes,
  given: WriteAccess,
  log: Logger,
  limits: AdminLimits = ADMIN_LIMITS,
): Promise<AdminServer> {
  const assets = loadDashboardAssets();
  // Loopback only once the address the server bound to is known to be one: a host name that was
  // taken for loopback (`localhost` in an odd /etc/hosts) but resolved to another address must not
  // open the tokenless writes to the network. Nothing is answered before the server listens.
  let access: WriteAccess = { token: given.token, loopback: false };
  const options = {
    // Answered below as JSON: node:http's own 400 has no body.
    requireHostHeader: false,
    headersTimeout: limits.headMs,
    requestTimeout: Math.max(limits.requestMs, limits.headMs),
    // How often the two above are checked: a head trickling in is cut within a second of its deadline.
    connectionsCheckingInterval: Math.min(1_000, limits.headMs),
  };
  const scrape = coalesced(() => routes.metrics(), METRICS_MIN_GAP_MS);
  const budget = new BodyBudget(limits.maxBufferedBytes);
  const server: Server = createServer(options, (req, res) => {
    if (req.headers.host === undefined && req.httpVersion === '1.1') {
      req.resume();
      res.setHeader('connection', 'close');
      return answerError(res, 'ERR_BAD_HOST');
    }
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
      scrape().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType, ...ANSWER_HEADERS }).end(body),
        (err: Error) => {
          log.error({ err }, 'metrics collection failed');
          answerJson(res, 500, { error: 'metrics collection failed', code: 'ERR_METRICS' });
        },
      );
      return;
    }
    if (method === 'GET' && path === '/v1/nodes') return answerJson(res, 200, routes.nodes());
    if (method === 'GET' && path === '/v1/dashboard') return answerJson(res, 200, routes.dashboard());
    if (method === 'POST' && path === '/v1/nodes') {
      pushNodes(req, res, routes, access, budget).catch((err: Error) => {
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
      return answerJson(res, 200, routes.tenants(top, order));
    }
    const tenantPath = method === 'GET' ? TENANT_PATH.exec(path) : null;
    if (tenantPath !== null) {
      const id = tenantIdOf(tenantPath[1]!);
      const tenant = id === undefined ? undefined : routes.tenant(id);
      return answerJson(res, tenant === undefined ? 404 : 200, tenant ?? { error: 'no such tenant', code: 'ERR_NO_ROUTE' });
    }
    const allow = allowedMethods(path, assets);
    if (allow === undefined) return answerJson(res, 404, { error: 'no such admin path', code: 'ERR_NO_ROUTE' });
    req.resume();
    res.setHeader('allow', allow);
    answerError(res, 'ERR_METHOD_NOT_ALLOWED', `${path} takes ${allow}`);
  });
  // A socket quiet for idleMs is destroyed (node:http does so when no 'timeout' listener takes it).
  server.timeout = limits.idleMs;
  server.maxConnections = limits.maxConnections;
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    // Said with the address: "getaddrinfo ENOTFOUND" alone does not say which setting holds it.
    server.once('error', (err) => reject(new Error(`the admin server cannot listen on ${host}:${port} (GATEWAY_ADMIN_HOST, GATEWAY_ADMIN_PORT): ${err.message}`)));
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      logLaterErrors(server, log, 'admin server');
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).address;
  access = { token: given.token, loopback: given.loopback && isLoopbackAddress(bound) };
  if (given.loopback && !access.loopback) log.warn({ host, address: bound }, 'the admin host resolved beyond loopback: the admin server treats itself as reachable from the network');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
