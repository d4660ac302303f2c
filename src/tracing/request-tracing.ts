import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type TextMapGetter, type TextMapSetter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import { ROUTING_REASON_NAMES, RoutingReason } from '../routing/routing-reason.js';
import { CLIENT_CLOSED_STATUS, type RequestContext } from '../acceptor/request-context.js';
import { cappedPath } from '../acceptor/access-log.js';
import type { RoutePlan } from '../acceptor/route-plans.js';
import type { RequestObserver } from '../acceptor/request-observer.js';
import type { AnsweredCode } from '../errors.js';
import { unbracketed } from '../upstream/node-names.js';

/** The gateway's own attributes, beside the HTTP semantic conventions. */
export const ATTR_TENANT_ID = 'tenant.id';
export const ATTR_NODE_SELECTED = 'gateway.node.selected';
export const ATTR_NODE_ADDRESS = 'gateway.node.address';
export const ATTR_NODE_PORT = 'gateway.node.port';
export const ATTR_ROUTING_REASON = 'routing.decision.reason';
/** The request's X-Request-Id (the access log's requestId): a log line and its span found from each other. */
export const ATTR_REQUEST_ID = 'gateway.request_id';
/** Codes of a head refused before its Host and tenant id were checked, or for them. */
const REFUSED_HEAD: ReadonlySet<AnsweredCode> = new Set<AnsweredCode>([
  'ERR_BAD_FRAMING',
  'ERR_HEADERS_TOO_LARGE',
  // readRequestHead refuses CONNECT before Host and the tenant id are checked.
  'ERR_METHOD_NOT_SUPPORTED',
  'ERR_BAD_HOST',
  'ERR_INVALID_TENANT',
]);

/** error.type of a request whose client left before its answer (logged as status 499, never sent). */
export const CLIENT_CLOSED_ERROR = 'client_closed';

/**
 * ctx.headers (the pools' flat [name, value, …] list, names in lower case) as the carrier the W3C
 * propagator reads the client's trace context from and writes ours into. Several tracestate lines
 * are one list (the propagator joins them); a second traceparent is dropped with the first.
 */
export const headerList: TextMapGetter<string[]> & TextMapSetter<string[]> = {
  keys: (headers) => headers.filter((_, i) => i % 2 === 0),
  get(headers, key) {
    let found: string | string[] | undefined;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] !== key) continue;
      const value = headers[i + 1]!;
      found = found === undefined ? value : typeof found === 'string' ? [found, value] : [...found, value];
    }
    return found;
  },
  set(headers, key, value) {
    let at = -1;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] !== key) continue;
      if (at < 0) at = i;
      else {
        headers.splice(i, 2);
        i -= 2;
      }
    }
    if (at < 0) headers.push(key, value);
    else headers[at + 1] = value;
  },
};

/**
 * A request's span (kind SERVER, one per request whose path matched a route), hooked into the
 * request path at three points: the first try sent (the span starts, as of the head's arrival, as
 * the child of the client's traceparent if it sent a valid one, and the node gets a traceparent
 * naming it), a failed try about to be retried (an event), and the request's ending (attributes,
 * status, end). A request the gateway answers before forwarding gets its span at its ending.
 *
 * One span per request, not a CLIENT child per try: half the spans to make and export, and the
 * node's own span already shows the upstream call. A retry keeps the span, so the node of every
 * try sees the same parent; the retry events say which nodes failed first, and why. Attributes are
 * set only on a recording span: an unsampled request costs its ids and the traceparent it sends.
 */
export class RequestTracing implements RequestObserver {
  readonly #tracer: Tracer;
  readonly #propagator = new W3CTraceContextPropagator();
  /** http.route of each route, by its metric slot (stable across reloads). */
  readonly #routes: string[] = [];
  readonly #flush: () => Promise<void>;

  /** `flush`: sends what is queued and stops the exporter. */
  constructor(tracer: Tracer, flush: () => Promise<void>) {
    this.#tracer = tracer;
    this.#flush = flush;
  }

  /** A try is about to be sent: the first starts the span and puts its traceparent in the node's headers. */
  forwarding(ctx: RequestContext): void {
    if (ctx.span !== null) return;
    const span = this.#start(ctx, ctx.plan!);
    ctx.span = span;
    this.#propagator.inject(trace.setSpan(ROOT_CONTEXT, span), ctx.headers, headerList);
    // A tracestate without a valid traceparent belongs to no trace (W3C Trace Context §3.3.1): dropped.
    if (span.spanContext().traceState === undefined) dropHeader(ctx.headers, 'tracestate');
  }

  /** The try that failed (ctx.status and errorCode still its own) is given up for another node. */
  retrying(ctx: RequestContext): void {
    const span = ctx.span;
    if (span === null || !span.isRecording()) return;
    span.addEvent('retry', { [ATTR_NODE_SELECTED]: ctx.plan!.nodeIds[ctx.member], [ATTR_ERROR_TYPE]: ctx.errorCode ?? String(ctx.status) });
  }

  /** The request ended `totalMs` after its head came: its span ends, with what it came to. */
  ended(ctx: RequestContext, totalMs: number): void {
    const plan = ctx.plan;
    // The health path and requests no route took are the gateway's own business.
    if (plan === null) return;
    const span = ctx.span ?? this.#start(ctx, plan);
    if (span.isRecording()) this.#describe(span, ctx, plan);
    span.end(ctx.startedAt + totalMs);
  }

  close(): Promise<void> {
    return this.#flush();
  }

  #start(ctx: RequestContext, plan: RoutePlan): Span {
    const parent = this.#propagator.extract(ROOT_CONTEXT, ctx.headers, headerList);
    // The span name the HTTP conventions give a server span: method and route template.
    // uWS dispatches only the nine methods the conventions know ("uWebSockets.js 20.30 limits"):
    // a client cannot choose the span's name.
    return this.#tracer.startSpan(`${ctx.method} ${this.#routeOf(plan)}`, { kind: SpanKind.SERVER, startTime: ctx.startedAt }, parent);
  }

  #describe(span: Span, ctx: RequestContext, plan: RoutePlan): void {
    const { status, errorCode } = ctx;
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: ctx.method,
      [ATTR_URL_PATH]: cappedPath(ctx.path),
      [ATTR_URL_SCHEME]: 'http',
      [ATTR_HTTP_ROUTE]: this.#routeOf(plan),
    };
    // A head the gateway refused holds the client's raw Host and tenant id: not attributes.
    const headChecked = errorCode === undefined || !REFUSED_HEAD.has(errorCode);
    if (headChecked) {
      const colon = portColon(ctx.host);
      const address = colon < 0 ? ctx.host : ctx.host.slice(0, colon);
      // An IPv6 address without the brackets the Host header needs.
      attributes[ATTR_SERVER_ADDRESS] = unbracketed(address);
      // `Host: a:` is valid (RFC 3986 allows an empty port) and names no port.
      if (colon >= 0 && colon < ctx.host.length - 1) attributes[ATTR_SERVER_PORT] = Number(ctx.host.slice(colon + 1));
    }
    if (ctx.tenant !== '' && headChecked) attributes[ATTR_TENANT_ID] = ctx.tenant;
    if (ctx.requestId !== '') attributes[ATTR_REQUEST_ID] = ctx.requestId;
    if (ctx.routing !== RoutingReason.None) attributes[ATTR_ROUTING_REASON] = ROUTING_REASON_NAMES[ctx.routing];
    if (ctx.node >= 0) {
      const peer = plan.nodePeers[ctx.member]!;
      attributes[ATTR_NODE_SELECTED] = plan.nodeIds[ctx.member];
      attributes[ATTR_NODE_ADDRESS] = peer.address;
      attributes[ATTR_NODE_PORT] = peer.port;
    }
    if (ctx.retries > 0) attributes[ATTR_HTTP_REQUEST_RESEND_COUNT] = ctx.retries;
    if (status !== CLIENT_CLOSED_STATUS) attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
    const errorType = errorCode ?? (status === CLIENT_CLOSED_STATUS ? CLIENT_CLOSED_ERROR : status >= 500 ? String(status) : undefined);
    if (errorType !== undefined) attributes[ATTR_ERROR_TYPE] = errorType;
    span.setAttributes(attributes);
    // A server span is an error on a 5xx only: a 4xx is the client's.
    if (status >= 500 && status !== CLIENT_CLOSED_STATUS) span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
  }

  #routeOf(plan: RoutePlan): string {
    const slot = plan.metricSlot;
    let route = this.#routes[slot];
    if (route === undefined) {
      const { label } = plan.route;
      // `exact:/x` → `/x`; `prefix:/api` → `/api*`, as a template for every path under it.
      route = label.startsWith('exact:') ? label.slice('exact:'.length) : `${label.slice('prefix:'.length)}*`;
      this.#routes[slot] = route;
    }
    return route;
  }
}

function dropHeader(headers: string[], name: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) if (headers[i] === name) headers.splice(i, 2);
}

/** Where the port of a Host value starts (its colon), or -1: `host`, `host:port`, `[v6]`, `[v6]:port`. */
export function portColon(host: string): number {
  const colon = host.lastIndexOf(':');
  return colon < 0 || host.indexOf(']', colon) >= 0 || (host[0] !== '[' && host.indexOf(':') !== colon) ? -1 : colon;
}
