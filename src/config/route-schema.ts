import { z } from 'zod';
import { headerNameSchema, pathSchema } from './primitives.js';
import { retriesSchema } from './resilience-schema.js';
import { routingPath } from '../routing/request-path.js';
import { ALWAYS_FORWARDED, routeLabel } from '../routing/route-table.js';
import { DROPPED_REQUEST_HEADERS, PROXY_CLAIM_NAMES } from '../routing/unforwarded-headers.js';

/** How a route's requests find their point on the ring: by tenant, by path, or by a header's value. */
const hashOnSchema = z.union([
  z.literal('tenant'),
  z.literal('path'),
  z.strictObject({ header: headerNameSchema }),
]);

/**
 * Request headers whose value the node gets from the gateway, whatever the client sent: a
 * multiplexed read's key cannot hold them, so a node's answer that varies on one would reach
 * clients it was not made for (one client's X-Forwarded-For answer to another).
 */
const SET_BY_GATEWAY: ReadonlySet<string> = new Set(['forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-request-id', 'x-ringgate-attempt']);
const VARY_SET_BY_GATEWAY = 'is set by the gateway for each request: no key of a shared read can hold it';

const rateLimitSchema = z.strictObject({
  requests: z.number().int().min(1).max(1_000_000_000),
  windowMs: z.number().int().min(100).max(86_400_000).default(1000),
  by: z
    .union([
      z.enum(['tenant', 'route', 'address']),
      z.strictObject({ header: headerNameSchema }),
    ])
    .default('tenant'),
});

/** A route of the config file: what it matches, the cluster it goes to, and its per-route features. */
export const routeSchema = z
  .strictObject({
    exact: pathSchema.optional(),
    prefix: pathSchema.optional(),
    cluster: z.string().min(1),
    requireTenant: z.boolean().default(true),
    hashOn: hashOnSchema.default('tenant'),
    retries: retriesSchema.prefault({}),
    /**
     * Header compaction: only these request headers reach the node, besides Host, Content-Length,
     * traceparent, tracestate, Idempotency-Key and the ones the gateway sets. Unset: every end-to-end header.
     */
    forwardHeaders: z.array(headerNameSchema).max(256).optional(),
    /**
     * Identical GET and HEAD requests in flight share one call to the node: within a thread, and
     * across threads through the shared in-flight table (answers with a body only). `vary`: the
     * request headers that make two requests different (default: MULTIPLEX_VARY).
     */
    multiplex: z
      .union([
        z.boolean(),
        z.strictObject({
          vary: z.array(headerNameSchema.refine((name) => !SET_BY_GATEWAY.has(name), VARY_SET_BY_GATEWAY)).max(32).optional(),
          /** A leader waits this long before calling, so more identical reads can join (0: never waits). */
          holdMs: z.number().int().min(0).max(10_000).default(0),
        }),
      ])
      .default(false),
    /**
     * At most `requests` per `windowMs` (sliding window), counted per tenant (default; a request
     * without one by its address), for the whole route, per client address, or per header value.
     */
    rateLimit: rateLimitSchema.optional(),
    /** Idempotency-Key on POST, PUT, PATCH and DELETE: `required` refuses a write without one. */
    idempotency: z.enum(['required', 'optional']).optional(),
  })
  .refine((r) => (r.exact === undefined) !== (r.prefix === undefined), {
    message: 'a route needs exactly one of "exact" or "prefix"',
  });

type ParsedRoute = z.output<typeof routeSchema>;

/**
 * A rate limit counts by a header among those the route copies from the request: one it never
 * copies (one the gateway sets itself, or one its forwardHeaders leave out) would be missing from
 * every request, and every request would count by its address without a word. The tenant header
 * (the file's or GATEWAY_TENANT_HEADER's) is copied by every route.
 */
export function checkLimitHeaders(routes: readonly ParsedRoute[], tenantHeader: string, trustsProxies: boolean, ctx: z.RefinementCtx): void {
  routes.forEach((route, i) => {
    const by = route.rateLimit?.by;
    if (by === undefined || typeof by === 'string') return;
    const name = by.header;
    const path = ['routes', i, 'rateLimit', 'by', 'header'];
    if (SET_BY_GATEWAY.has(name)) {
      ctx.addIssue({ code: 'custom', path, input: name, message: 'is one the gateway reads apart or sets itself: a limit by it would count every request by its address, which "address" does (by the client a trusted proxy names)' });
      return;
    }
    if (DROPPED_REQUEST_HEADERS.includes(name)) {
      ctx.addIssue({ code: 'custom', path, input: name, message: 'is one the gateway never forwards (hop-by-hop, or one a node could be misled by): a limit by it would count every request by its address' });
      return;
    }
    if (!trustsProxies && PROXY_CLAIM_NAMES.includes(name)) {
      ctx.addIssue({ code: 'custom', path, input: name, message: 'is forwarded only from a proxy in GATEWAY_TRUSTED_PROXIES, and none is set: a limit by it would count every request by its address' });
      return;
    }
    const forwarded = route.forwardHeaders;
    const hashHeader = typeof route.hashOn === 'object' ? route.hashOn.header : undefined;
    if (forwarded === undefined || forwarded.includes(name) || ALWAYS_FORWARDED.includes(name) || name === hashHeader || name === tenantHeader) return;
    ctx.addIssue({ code: 'custom', path, input: name, message: 'is not among the route\'s forwardHeaders: the route never reads it; list it there' });
  });
}

/**
 * Two routes that are one entry of the route table, reported at the later: routes are keyed by the
 * form requests match in (routingPath), so two spellings of one path (`/a\b` and `/a/b`, `/café/`
 * and `/caf%C3%A9/`) would have the later silently take every request of the earlier.
 */
export function checkRouteClashes(routes: readonly z.output<typeof routeSchema>[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, string>();
  routes.forEach((route, i) => {
    const [kind, path] = route.exact !== undefined ? ['exact', route.exact] : ['prefix', route.prefix];
    if (path === undefined) return; // neither: its own issue (routeSchema)
    const key = routeLabel(route);
    const matched = `${kind}:${routingPath(path)}`;
    const earlier = seen.get(matched);
    if (earlier === undefined) return void seen.set(matched, key);
    const message = earlier === key ? `duplicate route ${key}` : `duplicate route ${key}: requests match it as ${matched}, as ${earlier}`;
    ctx.addIssue({ code: 'custom', path: ['routes', i], message, input: key });
  });
}
