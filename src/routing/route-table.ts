import { Buffer } from 'node:buffer';
import type { HashOn, RouteConfig } from '../config/schema.js';
import { FreshNameSet, type NameSet } from '../name-set.js';
import { routingPath } from './request-path.js';

/** How a route derives the key it hashes onto the ring. */
export const enum HashKind {
  Tenant = 0,
  Path = 1,
  Header = 2,
}

export interface CompiledRoute {
  /** Position in the config's route list: the route's slot in per-route metric arrays. */
  readonly index: number;
  /** Stable label for metrics: `exact:/x` or `prefix:/api`. Bounded by the config, never by traffic. */
  readonly label: string;
  readonly cluster: string;
  readonly requireTenant: boolean;
  readonly hashKind: HashKind;
  /** Lower-cased header name when hashKind is Header. */
  readonly hashHeader: string;
  /** Request headers forwarded (header compaction), lower case; null: all of them. */
  readonly forwardHeaders: NameSet | null;
  /** Multiplexing: the request headers whose values tell two identical reads apart; null when off. */
  readonly multiplexVary: NameSet | null;
  /** Multiplexing: how long a call's leader waits for followers before calling (0: not at all). */
  readonly multiplexHoldMs: number;
  /** The route's rate limit; null: none. */
  readonly rateLimit: RouteRateLimit | null;
}

export interface RouteRateLimit {
  readonly requests: number;
  readonly windowMs: number;
  readonly by: 'tenant' | 'route' | 'address' | { readonly header: string };
  /** `requests` as the RateLimit-Limit header value, made once. */
  readonly requestsHeader: Buffer;
}

/** Headers that make two reads different answers unless a route says otherwise (multiplex.vary). */
export const MULTIPLEX_VARY = ['authorization', 'cookie', 'accept', 'accept-encoding', 'accept-language'];

/**
 * Headers a compacting route forwards whatever its list says: framing, authority, trace context,
 * and Idempotency-Key (a retried write is safe only if the node sees its key).
 */
export const ALWAYS_FORWARDED: readonly string[] = ['host', 'content-length', 'traceparent', 'tracestate', 'idempotency-key'];

export interface RouteTable {
  /** Every route, in config order (a route's index is its position). */
  readonly routes: readonly CompiledRoute[];
  readonly exact: ReadonlyMap<string, CompiledRoute>;
  readonly prefixes: ReadonlyMap<string, CompiledRoute>;
  /** Distinct prefix lengths, longest first: matching tries at most one map lookup per length. */
  readonly prefixLengths: readonly number[];
}

/**
 * Compiles routes once at load into hash maps, so a request costs a few map lookups and never a
 * regex scan. Exact beats prefix; among prefixes the longest wins. Prefixes match as plain string
 * prefixes, as in nginx `location` and Envoy `prefix` (so `/api` also matches `/apix`).
 */
export function compileRoutes(routes: readonly RouteConfig[]): RouteTable {
  const exact = new Map<string, CompiledRoute>();
  const prefixes = new Map<string, CompiledRoute>();
  const compiledRoutes = routes.map((route, index) => compileRoute(route, index));
  routes.forEach((route, index) => {
    const compiled = compiledRoutes[index]!;
    // In the form requests are matched in: a route written `/caf%c3%a9/` matches as it is spelled.
    if (route.exact !== undefined) exact.set(routingPath(route.exact), compiled);
    else if (route.prefix !== undefined) prefixes.set(routingPath(route.prefix), compiled);
  });
  const prefixLengths = [...new Set([...prefixes.keys()].map((p) => p.length))].sort((a, b) => b - a);
  return { routes: compiledRoutes, exact, prefixes, prefixLengths };
}

export function matchRoute(table: RouteTable, path: string): CompiledRoute | undefined {
  const exact = table.exact.get(path);
  if (exact !== undefined) return exact;
  for (const length of table.prefixLengths) {
    if (length > path.length) continue;
    const route = table.prefixes.get(length === path.length ? path : path.slice(0, length));
    if (route !== undefined) return route;
  }
  return undefined;
}

export function routeLabel(route: RouteConfig): string {
  return route.exact !== undefined ? `exact:${route.exact}` : `prefix:${route.prefix}`;
}

function compileRoute(route: RouteConfig, index: number): CompiledRoute {
  const { hashKind, hashHeader } = compileHashOn(route.hashOn);
  const forwardHeaders = route.forwardHeaders === undefined ? null : new FreshNameSet([...ALWAYS_FORWARDED, ...route.forwardHeaders]);
  const multiplex = route.multiplex;
  const multiplexVary = multiplex === false ? null : new FreshNameSet(multiplex === true ? MULTIPLEX_VARY : (multiplex.vary ?? MULTIPLEX_VARY));
  return Object.freeze({
    index,
    label: routeLabel(route),
    cluster: route.cluster,
    requireTenant: route.requireTenant,
    hashKind,
    hashHeader,
    forwardHeaders,
    multiplexVary,
    multiplexHoldMs: multiplex === false || multiplex === true ? 0 : multiplex.holdMs,
    rateLimit: route.rateLimit === undefined ? null : { ...route.rateLimit, requestsHeader: Buffer.from(String(route.rateLimit.requests)) },
  });
}

function compileHashOn(hashOn: HashOn): { hashKind: HashKind; hashHeader: string } {
  if (hashOn === 'tenant') return { hashKind: HashKind.Tenant, hashHeader: '' };
  if (hashOn === 'path') return { hashKind: HashKind.Path, hashHeader: '' };
  return { hashKind: HashKind.Header, hashHeader: hashOn.header };
}
