import { performance } from 'node:perf_hooks';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { AnsweredCode } from '../errors.js';
import { HEALTH_ROUTE_LABEL, NO_ROUTE_LABEL } from '../metrics/definitions.js';
import { answerThenClose, errorJson, errorStatus, statusLine } from './answers.js';
import type { Admission } from './phases/admit.js';
import type { Finisher } from './phases/finish.js';
import type { Forwarder } from './phases/forward.js';
import type { Continuation, IdempotencyCheck } from './phases/idempotency.js';
import { LIMIT_PENDING, type LimitContinuation, type LimitPhase } from './phases/limit.js';
import type { LocalBatches } from './local-batches.js';
import { WaitingClient } from './waiting-client.js';
import { REQUEST_ID_HEADER, settleRequestId } from './request-id.js';
import type { Selection } from './phases/select.js';
import { CLIENT_CLOSED_STATUS, RequestContext } from './request-context.js';
import { ClientResponse } from './uws-adapter.js';

export const HEALTH_PATH = '/_ringgate/healthz';
const HEALTHY_BODY = JSON.stringify({ status: 'ok' });
const OK_LINE = statusLine(200);
/** Seconds a client should wait after ERR_UPSTREAM_SATURATED: in-flight requests end within that, as a rule. */
const SATURATED_RETRY_AFTER = '1';

/** Metric labels of the requests no route takes: first, so their slots never move. */
export const GATEWAY_ROUTE_LABELS = [NO_ROUTE_LABEL, HEALTH_ROUTE_LABEL] as const;

/**
 * Answers after which nothing more is read from the connection: what follows a head the gateway
 * could not frame, or one it refused as ambiguous or hostile, cannot be trusted to be a request.
 */
const CLOSES_CONNECTION: ReadonlySet<AnsweredCode> = new Set<AnsweredCode>([
  'ERR_BAD_FRAMING',
  'ERR_BAD_HOST',
  'ERR_BAD_PATH',
  'ERR_BODY_TOO_LARGE',
  'ERR_HEADERS_TOO_LARGE',
  'ERR_INVALID_TENANT',
  // What a client that meant a tunnel sends next is not HTTP.
  'ERR_METHOD_NOT_SUPPORTED',
]);

export interface Phases {
  readonly admission: Admission;
  readonly limit: LimitPhase;
  readonly idempotency: IdempotencyCheck;
  readonly selection: Selection;
  readonly forwarder: Forwarder;
  readonly finisher: Finisher;
}

/**
 * The request path of one acceptor thread (DESIGN "Request path"): a straight line through the
 * phases, admit → limit (rate limit, multiplexing, Idempotency-Key, on routes with them) → select
 * → forward, then respond and finish from the upstream exchange. A phase returns an error code or
 * null (continue); one that may finish later (a Redis verdict, a body read whole first) goes on
 * through the Continuation. Errors are answered here, in one place, and every ending is recorded
 * by the finisher.
 */
export class RequestRunner implements Continuation, LimitContinuation {
  readonly #phases: Phases;
  readonly #batches: LocalBatches;
  readonly #noRouteIndex: number;
  readonly #healthIndex: number;

  /** `noRouteSlot`, `healthSlot`: the metric slots of GATEWAY_ROUTE_LABELS. */
  constructor(phases: Phases, batches: LocalBatches, noRouteSlot: number, healthSlot: number) {
    this.#phases = phases;
    this.#batches = batches;
    // Followers a call cannot serve go on through the newest request path.
    batches.continuation = this;
    this.#noRouteIndex = noRouteSlot;
    this.#healthIndex = healthSlot;
  }

  readonly handle = (res: HttpResponse, req: HttpRequest): void => {
    const { admission, finisher } = this.#phases;
    const ctx = new RequestContext(new ClientResponse(res), performance.now(), this.#noRouteIndex);
    finisher.begin(ctx);
    const url = req.getUrl();
    if (url === HEALTH_PATH) return this.#health(ctx, req);
    const code = admission.run(ctx, req, url);
    if (code !== null) return this.#answerError(ctx, code);
    const rateLimit = ctx.plan!.route.rateLimit;
    if (rateLimit !== null) {
      const limited = this.#phases.limit.run(ctx, rateLimit, this);
      if (limited === LIMIT_PENDING) return;
      if (limited !== null) return this.#answerError(ctx, limited);
    }
    this.passedLimit(ctx);
  };

  passedLimit(ctx: RequestContext): void {
    const plan = ctx.plan!;
    if (plan.route.multiplexVary !== null && (ctx.method === 'GET' || ctx.method === 'HEAD') && !ctx.hasBody) {
      if (this.#batches.joinOrLead(ctx, plan.route.multiplexVary)) return;
      // Only a batch's leader waits: a read that can never be shared (conditional, a range) has nothing to wait for.
      if (plan.route.multiplexHoldMs > 0 && ctx.batch !== null) return this.#hold(ctx, plan.route.multiplexHoldMs);
    }
    const idempotency = plan.idempotency;
    if (idempotency !== null) return this.#phases.idempotency.run(ctx, idempotency, this);
    this.resume(ctx);
  }

  /** A call's leader waits for followers first (multiplex.holdMs); leaving meanwhile ends it (its followers then call on their own). */
  #hold(ctx: RequestContext, holdMs: number): void {
    const waiting = new WaitingClient(ctx, this.#phases.finisher);
    ctx.client.attach(waiting);
    setTimeout(() => {
      if (!waiting.left) this.resume(ctx);
    }, holdMs);
  }

  resume(ctx: RequestContext): void {
    const code = this.#phases.selection.run(ctx);
    if (code !== null) return this.#answerError(ctx, code);
    this.#phases.forwarder.run(ctx);
  }

  fail(ctx: RequestContext, code: AnsweredCode): void {
    this.#answerError(ctx, code);
  }

  #health(ctx: RequestContext, req: HttpRequest): void {
    ctx.routeIndex = this.#healthIndex;
    ctx.method = req.getCaseSensitiveMethod();
    ctx.client.headRequest = ctx.method === 'HEAD';
    ctx.path = HEALTH_PATH;
    // Two X-Request-Id headers name no one request (as readRequestHead): a new id is made.
    let ids = 0;
    // A probe has no body. One framed for one may hide a second request behind two lengths (uWS
    // reads the first): answered as a refused head is, nothing more is parsed from the connection.
    let framed = false;
    req.forEach((name, value) => {
      if (name === 'content-length' || name === 'transfer-encoding') framed = true;
      if (name !== REQUEST_ID_HEADER) return;
      ids++;
      ctx.requestId = ids === 1 ? value : '';
    });
    settleRequestId(ctx);
    const finisher = this.#phases.finisher;
    if (finisher.draining) return this.#answerError(ctx, 'ERR_SHUTTING_DOWN');
    ctx.status = 200;
    if (framed) {
      return answerThenClose(ctx.client, OK_LINE, HEALTHY_BODY, null, null, (answered) => {
        if (!answered) ctx.status = CLIENT_CLOSED_STATUS;
        finisher.finish(ctx);
      });
    }
    ctx.client.answerJson(OK_LINE, HEALTHY_BODY, false);
    finisher.finish(ctx);
  }

  /**
   * The gateway's own error answer. It closes the connection when what follows cannot be trusted,
   * when the request's body would be left unread on it, or while draining.
   */
  #answerError(ctx: RequestContext, code: AnsweredCode): void {
    const finisher = this.#phases.finisher;
    ctx.errorCode = code;
    ctx.status = errorStatus(code);
    const line = statusLine(ctx.status);
    const retryAfter = code === 'ERR_UPSTREAM_SATURATED' ? SATURATED_RETRY_AFTER : ctx.retryAfter;
    const extra = ctx.limitHeaders;
    // A body read whole already (the limit phase's) leaves nothing unread on the connection.
    const unreadBody = ctx.hasBody && ctx.body === null;
    if (CLOSES_CONNECTION.has(code) || unreadBody || finisher.draining) {
      // A body whose framing is sound is read and dropped first, so the answer is not lost to a reset.
      const dropBody = unreadBody && !finisher.draining && (code === 'ERR_BODY_TOO_LARGE' || !CLOSES_CONNECTION.has(code));
      answerThenClose(ctx.client, line, errorJson(code), retryAfter, extra, (answered) => {
        if (!answered) ctx.status = CLIENT_CLOSED_STATUS;
        finisher.finish(ctx);
      }, dropBody, ctx.pendingBody);
      return;
    }
    ctx.client.answerJson(line, errorJson(code), false, retryAfter, extra);
    finisher.finish(ctx);
  }
}
