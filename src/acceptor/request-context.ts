import { Buffer } from 'node:buffer';
import type { AnsweredCode } from '../errors.js';
import type { RoutePlan } from './route-plans.js';
import type { HeaderField } from './client-contract.js';
import type { ClientResponse } from './uws-adapter.js';
import type { ResponseCapture } from './stored-response.js';
import type { HeldKey } from './idempotency-store.js';
import type { Batch } from './multiplex.js';
import type { RequestBody } from './request-body.js';
import { RoutingReason } from '../routing/routing-reason.js';
import type { Span } from '@opentelemetry/api';

/**
 * One request, from its head to its one `finish`: what the phases read and write, in one object
 * passed through them (no closures, no middleware array). uWS's request object dies when the
 * handler returns, so the head is copied here first.
 */
export class RequestContext {
  // ---- the head (admit) ----
  method = '';
  /** The normalized path (no query): what routes match, what is forwarded. */
  path = '';
  /** Path and query, as forwarded upstream. */
  target = '';
  host = '';
  /** X-Request-Id: the client's when valid, else one made here; '' until admit. */
  requestId = '';
  /** Tenant header value, '' when absent. */
  tenant = '';
  /** Value of the route's hash header, if it asked for one and the request had it. */
  hashHeaderValue = '';
  /** -1 when the request has no Content-Length. */
  contentLength = -1;
  chunked = false;
  /** Forwardable request headers as a flat [name, value, …] list (the pools' array form). */
  headers: string[] = [];
  /** Incoming X-Forwarded-For, '' when absent: kept (the client address appended) from a trusted proxy only. */
  forwardedFor = '';
  /** Incoming X-Forwarded-Proto and Forwarded, '' when absent: kept from a trusted proxy only. */
  forwardedProto = '';
  forwarded = '';
  /** Bytes of the head as the client sent it. */
  headBytes = 0;
  /** Header bytes forwarded to the node on a route with header compaction; -1 on other routes. */
  forwardedHeadBytes = -1;
  /** Its Idempotency-Key header, '' when absent: a request with one is safe to send twice whatever its method. */
  idempotencyKey = '';
  /** The Idempotency-Key claim the request holds (in flight until it ends), or null. */
  heldKey: HeldKey | null = null;
  /** RateLimit-* headers for the answer (raw [name, value, …]), on routes with a rate limit; null elsewhere. */
  limitHeaders: HeaderField[] | null = null;
  /** Retry-After of a refusal, in seconds; null when none. */
  retryAfter: string | null = null;
  /** The multiplexed call this request leads (identical reads join it); null for any other. */
  batch: Batch | null = null;
  /** A copy of the answer being made for replay, while the request holds an idempotency entry. */
  capture: ResponseCapture | null = null;

  // ---- routing (admit, select) ----
  /** The matched route's compiled plan; null for no route and the health path. */
  plan: RoutePlan | null = null;
  /** The request's slot in the per-route metrics (a route, "no route", or the health path). */
  routeIndex: number;
  /** Slot of the tenant in the shared tenant table, or -1 (no tenant, or no room). */
  tenantSlot = -1;
  /** The tenant's key in that table: its slot still holds it when the request ends, or another tenant's. */
  tenantKeyLo = 0;
  tenantKeyHi = 0;
  /** The node chosen, as its slot in the shared node table; -1 before select. */
  node = -1;
  /** The same node as its position in its cluster (the plan's pools and members are in that order). */
  member = -1;
  /** The node's cluster index in the node table. */
  cluster = -1;
  /** Why the request went to its node (RoutingReason): for the access log and spans. */
  routing: RoutingReason = RoutingReason.None;
  /** The request's span once it started (tracing on, first try sent); null otherwise. */
  span: Span | null = null;
  /** The node counts this request as in flight (from select until the node is done with it). */
  nodeHeld = false;
  /** The answer's cache header said hit (1) or miss (0); -1: no such header, or none configured. */
  cacheHit = -1;
  /** The node refused the connection: nothing listens there. */
  refused = false;
  /** The try's pool found it no connection within the timeout: the node never had it, and is not judged by it. */
  waitedOut = false;
  /** The try went out on a connection (its pool's onConnect took it): only then did it cross to the node's zone. */
  reachedNode = false;
  /** The try holds a half-open node's probe token (set when its node is held): its ending judges the node. */
  probe = false;
  /**
   * The node's breaker period when the try was sent (breaker-table.ts PROBE_PERIOD; a probe's: its
   * token's): an ending in a later period, past a reopening, says nothing of the node now.
   */
  breakerPeriod = 0;
  /** A probe's: the refill of its period's tokens its token is of (breaker-table.ts PROBES). */
  probeRefill = 0;

  // ---- tries (forward, retry) ----
  /** The body read whole, kept for a retry; null without a body, or while it streams. */
  body: Buffer | null = null;
  /**
   * When the request was whole: its arrival, or when its body was read whole (bodyRead).
   * GATEWAY_UPSTREAM_TIMEOUT_MS counts from it, as Envoy's timeouts count from the request's end.
   */
  wholeAt: number;
  /** The body, streaming since an earlier phase waited (uWS drops body bytes nobody takes); null otherwise. */
  pendingBody: RequestBody | null = null;
  /** The body streaming upstream as it arrives (it cannot be sent twice); null otherwise. */
  streamedBody: RequestBody | null = null;
  /** Retries made so far. */
  retries = 0;
  /** Members of the cluster earlier tries went to (a retry never goes back); null before a retry. */
  tried: number[] | null = null;
  /** The current try holds one of its cluster's retry-budget claims. */
  retryHeld = false;
  /**
   * When the current try's node had the request (performance.now()), 0 unless its cluster has a
   * breaker (or the access log is on): stamped at its dispatch, again when a connection took it
   * after a wait in the thread's pool, and for a streamed body when its last byte came. A breaker,
   * as the timeouts do, times the node from here, not a wait for a connection or a slow client.
   */
  triedAt = 0;
  /** When the current try's answer head came, 0 before (or without a breaker). */
  headAt = 0;
  /** The current try's answer status, 0 before its head came: what the node said, though its client left since. */
  headStatus = 0;

  // ---- the ending (finish) ----
  /** Status answered, or CLIENT_CLOSED_STATUS. */
  status = 0;
  errorCode: AnsweredCode | undefined = undefined;
  finished = false;
  /** Finisher's generation when the request began: what freed node slots and retired pools wait for. */
  generation = 0;

  constructor(
    readonly client: ClientResponse,
    readonly startedAt: number,
    routeIndex: number,
  ) {
    this.routeIndex = routeIndex;
    this.wholeAt = startedAt;
  }

  /** The body, read whole: the request is whole now. */
  bodyRead(body: Buffer, now: number): void {
    this.body = body;
    this.wholeAt = now;
  }

  get hasBody(): boolean {
    return this.contentLength > 0 || this.chunked;
  }
}

/** nginx's convention for "client closed the request before the answer": counted, never sent. */
export const CLIENT_CLOSED_STATUS = 499;
