import type { Pool } from 'undici';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { GatewayConfig } from '../config/load.js';
import type { ErrorCode } from '../errors.js';
import { HEALTH_ROUTE_LABEL, NO_ROUTE_LABEL } from '../metrics/definitions.js';
import type { RequestRecorder } from '../metrics/request-recorder.js';
import { BoundedLoadChooser, loadBound } from '../routing/bounded-load.js';
import type { Hash32 } from '../routing/ring.js';
import { compileRoutes, HashKind, matchRoute, routeLabel, type CompiledRoute, type RouteTable } from '../routing/route-table.js';
import { isValidTenantId } from '../routing/tenant-id.js';
import { chooseShared, lookupShared, type SharedRing } from '../shm/ring-buffer.js';
import { clusterInFlight, finishNodeRequest, inFlightWord, NODE_WORDS, nodeBases, startNodeRequest, type NodeTable } from '../shm/node-table.js';
import { findOrClaim, recordRequest, recordUntracked, shardFactor, type TenantTable } from '../shm/tenant-table.js';
import type { TenantKeyer } from '../hash.js';
import { ProxyExchange, type ExchangeOwner } from './proxy-exchange.js';
import { readRequestHead, type RequestHead } from './request-head.js';
import { readWholeBody, streamRequestBody } from './request-body.js';
import type { UpstreamPools } from './upstream-pools.js';
import { formatAddress } from './client-address.js';
import { answerError, answerJson } from './uws-respond.js';

export const HEALTH_PATH = '/_ringgate/healthz';
const HEALTHY_BODY = JSON.stringify({ status: 'ok' });

/** Labels of the per-route metric slots: config routes, then "no route", then the health path. */
export function routeMetricLabels(config: GatewayConfig): string[] {
  return [...config.routes.map(routeLabel), NO_ROUTE_LABEL, HEALTH_ROUTE_LABEL];
}

interface RouteTarget {
  readonly ring: SharedRing;
  readonly pools: readonly Pool[];
  /** Node-table index of the cluster's first node. */
  readonly nodeBase: number;
  /** Node-table index of the cluster. */
  readonly cluster: number;
  /** Adaptive routing's walk over the cluster's ring (shared by its routes); null in plain mode. */
  readonly chooser: BoundedLoadChooser | null;
}

/**
 * The request phases of one acceptor thread: read head → route → tenant → ring → upstream exchange.
 * Everything per route is resolved at start-up; a request touches thread-local objects and the
 * shared tables only.
 *
 * Adaptive routing (issue 4): a tenant-keyed request goes to the least loaded of the first k
 * distinct nodes clockwise from the tenant's point, k being the shard factor the coordinator keeps
 * in the tenant table, and no request goes to a node that would then hold more than
 * GATEWAY_BALANCE_FACTOR × its cluster's mean in-flight requests (routing/bounded-load.ts).
 */
export class Pipeline implements ExchangeOwner {
  #inFlight = 0;
  #draining = false;
  #onIdle: (() => void) | null = null;
  readonly #table: RouteTable;
  readonly #targets: readonly RouteTarget[];
  readonly #settings: GatewayConfig['settings'];
  readonly #hash32: Hash32;
  readonly #recorder: RequestRecorder;
  readonly #tenants: { readonly table: TenantTable; readonly keyer: TenantKeyer };
  readonly #nodes: NodeTable;
  /** Node-table cluster index of each node. */
  readonly #clusterOf: Uint16Array;
  readonly #noRouteIndex: number;
  readonly #healthIndex: number;

  constructor(
    config: GatewayConfig,
    rings: ReadonlyMap<string, SharedRing>,
    pools: UpstreamPools,
    hash32: Hash32,
    /** Built over routeMetricLabels(config): route slots first, then NO_ROUTE, then HEALTH. */
    recorder: RequestRecorder,
    /** The shared tenant table each proxied request of a tenant is counted in. */
    tenants: { readonly table: TenantTable; readonly keyer: TenantKeyer },
    /** The shared node table: in-flight requests per node. */
    nodes: NodeTable,
  ) {
    this.#tenants = tenants;
    this.#nodes = nodes;
    const { bases, clusters, total } = nodeBases(config.clusters);
    this.#clusterOf = new Uint16Array(total);
    const choosers = new Map<string, BoundedLoadChooser>();
    for (const [name, { nodes: members }] of Object.entries(config.clusters)) {
      const base = bases.get(name)!;
      this.#clusterOf.fill(clusters.get(name)!, base, base + members.length);
      choosers.set(name, new BoundedLoadChooser(members.length, nodes.words, inFlightWord(base), NODE_WORDS));
    }
    const adaptive = config.settings.routingMode === 'adaptive';
    this.#settings = config.settings;
    this.#table = compileRoutes(config.routes);
    this.#targets = config.routes.map((route) => ({
      ring: rings.get(route.cluster)!,
      pools: pools.cluster(route.cluster),
      nodeBase: bases.get(route.cluster)!,
      cluster: clusters.get(route.cluster)!,
      chooser: adaptive ? choosers.get(route.cluster)! : null,
    }));
    this.#hash32 = hash32;
    this.#recorder = recorder;
    this.#noRouteIndex = config.routes.length;
    this.#healthIndex = config.routes.length + 1;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** From now on: health answers 503 and gateway-made answers close their connection. */
  startDrain(onIdle: () => void): void {
    this.#draining = true;
    this.#onIdle = onIdle;
    if (this.#inFlight === 0) onIdle();
  }

  readonly handle = (res: HttpResponse, req: HttpRequest): void => {
    const startedAt = performance.now();
    const path = req.getUrl();
    if (path === HEALTH_PATH) {
      if (this.#draining) this.#reject(res, this.#healthIndex, 'ERR_SHUTTING_DOWN', startedAt, true);
      else {
        answerJson(res, 200, HEALTHY_BODY, false);
        this.#recorder.record(this.#healthIndex, 200, (performance.now() - startedAt) / 1000);
      }
      return;
    }
    const route = matchRoute(this.#table, path);
    const head = readRequestHead(req, this.#settings.tenantHeader, route?.hashHeader ?? '', this.#settings.maxHeaderBytes);
    const routeIndex = route?.index ?? this.#noRouteIndex;
    if (typeof head === 'string') return this.#reject(res, routeIndex, head, startedAt, true);
    const hasBody = head.contentLength > 0 || head.chunked;
    if (route === undefined) return this.#reject(res, routeIndex, 'ERR_NO_ROUTE', startedAt, hasBody);
    if (head.tenant === '' ? route.requireTenant : !isValidTenantId(head.tenant)) {
      const code = head.tenant === '' ? 'ERR_MISSING_TENANT' : 'ERR_INVALID_TENANT';
      return this.#reject(res, routeIndex, code, startedAt, hasBody);
    }
    if (head.contentLength > this.#settings.maxBodyBytes) {
      return this.#reject(res, routeIndex, 'ERR_BODY_TOO_LARGE', startedAt, true);
    }
    const target = this.#targets[route.index]!;
    const tenantSlot = this.#tenantSlot(head.tenant);
    const owner = this.#chooseNode(target, route, head, tenantSlot);
    if (owner < 0) return this.#reject(res, routeIndex, 'ERR_RING_EMPTY', startedAt, hasBody);

    const node = target.nodeBase + owner;
    const exchange = new ProxyExchange(res, this, routeIndex, node, tenantSlot, head.method === 'HEAD', hasBody, startedAt);
    startNodeRequest(this.#nodes, node, target.cluster);
    const client = formatAddress(new Uint8Array(res.getRemoteAddress()));
    head.headers.push(
      'x-forwarded-for',
      head.forwardedFor === '' ? client : `${head.forwardedFor}, ${client}`,
      'x-forwarded-proto',
      'http',
      'x-forwarded-host',
      head.host,
    );
    this.#inFlight++;
    const pool = target.pools[owner]!;
    if (!hasBody) {
      pool.dispatch({ path: head.target, method: head.method, headers: head.headers, body: null }, exchange);
    } else if (!head.chunked && head.contentLength <= this.#settings.bufferBodyBytes) {
      readWholeBody(res, head.contentLength, (body) => {
        if (exchange.clientGone) return;
        pool.dispatch({ path: head.target, method: head.method, headers: head.headers, body }, exchange);
      });
    } else {
      const body = streamRequestBody(res, this.#settings.maxBodyBytes);
      exchange.attachBody(body);
      pool.dispatch({ path: head.target, method: head.method, headers: head.headers, body }, exchange);
    }
  };

  nodeReleased(exchange: ProxyExchange): void {
    finishNodeRequest(this.#nodes, exchange.node, this.#clusterOf[exchange.node]!);
  }

  exchangeFinished(exchange: ProxyExchange, status: number, errorCode: ErrorCode | undefined): void {
    this.#inFlight--;
    const elapsedMs = performance.now() - exchange.startedAt;
    this.#recorder.record(exchange.routeIndex, status, elapsedMs / 1000);
    if (exchange.tenantSlot >= 0) recordRequest(this.#tenants.table, exchange.tenantSlot, Math.round(elapsedMs * 1000), status >= 500);
    if (errorCode !== undefined) this.#recorder.recordError(errorCode);
    if (this.#draining && this.#inFlight === 0) this.#onIdle?.();
  }

  /** The node's index in its cluster, or -1 when the ring is empty. */
  #chooseNode(target: RouteTarget, route: CompiledRoute, head: RequestHead, tenantSlot: number): number {
    const keyHash = this.#hash32(routingKey(route, head));
    const chooser = target.chooser;
    if (chooser === null) return lookupShared(target.ring, keyHash);
    const keyedByTenant = route.hashKind === HashKind.Tenant && tenantSlot >= 0;
    const k = keyedByTenant ? shardFactor(this.#tenants.table, tenantSlot) : 1;
    const bound = loadBound(clusterInFlight(this.#nodes, target.cluster), chooser.nodes, this.#settings.balanceFactor);
    return chooseShared(target.ring, keyHash, chooser, k, bound);
  }

  /** The tenant's slot in the shared table (claimed on first sight), or -1: no tenant, or no room. */
  #tenantSlot(tenant: string): number {
    if (tenant === '') return -1;
    const { table, keyer } = this.#tenants;
    keyer.hash(tenant);
    const slot = findOrClaim(table, keyer.lo, keyer.hi, tenant);
    if (slot < 0) recordUntracked(table);
    return slot;
  }

  #reject(res: HttpResponse, routeIndex: number, code: ErrorCode, startedAt: number, closeConnection: boolean): void {
    const status = answerError(res, code, closeConnection || this.#draining);
    this.#recorder.record(routeIndex, status, (performance.now() - startedAt) / 1000);
    this.#recorder.recordError(code);
  }
}

/** The ring key: the tenant by default; a route may hash on the path or a header instead. */
function routingKey(route: CompiledRoute, head: RequestHead): string {
  switch (route.hashKind) {
    case HashKind.Path:
      return head.path;
    case HashKind.Header:
      return head.hashHeaderValue || head.tenant || head.path;
    default:
      return head.tenant || head.path;
  }
}
