import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Settings } from '../../config/schema.js';
import { ForwardedHeaders, type TrustCheck } from '../forwarded-headers.js';
import type { RequestContext } from '../request-context.js';
import { readWholeBody, streamRequestBody } from '../request-body.js';
import type { ExchangeOwner } from '../exchange-owner.js';
import { UpstreamExchange } from '../upstream-exchange.js';
import type { Finisher } from './finish.js';
import { RetryWait, type Retrier } from './retry.js';
import { MIN_TRY_MS } from '../../resilience/retry-policy.js';
import { errorJson, errorStatus, statusLine } from '../answers.js';
import type { RequestTracing } from '../../tracing/request-tracing.js';

/** Request header a retry carries: which try this is (2 for the first retry), as Envoy's x-envoy-attempt-count. */
const ATTEMPT_HEADER = 'x-ringgate-attempt';

/**
 * The forward phase: the X-Forwarded-* headers, then the request goes to the chosen node's pool
 * with its body read whole (declared and small: sent with the head in one write, and kept for a
 * retry) or streamed with backpressure. The respond phase is the exchange's: it streams the answer
 * back. A try that failed before the client got anything may be tried again on another node: the
 * retrier decides, this sends it after the backoff.
 */
export class Forwarder implements ExchangeOwner {
  dispatching: UpstreamExchange | null = null;
  readonly #finisher: Finisher;
  readonly #retrier: Retrier;
  readonly #bufferBodyBytes: number;
  readonly #maxBodyBytes: number;
  readonly #forwardedHeaders: ForwardedHeaders;
  /** null when tracing is off. */
  readonly #tracing: RequestTracing | null;
  readonly #sendRetry = (ctx: RequestContext): void => this.#retry(ctx);

  constructor(settings: Readonly<Settings>, finisher: Finisher, retrier: Retrier, tracing: RequestTracing | null, trusts: TrustCheck | null) {
    this.#finisher = finisher;
    this.#tracing = tracing;
    this.#retrier = retrier;
    this.#bufferBodyBytes = settings.bufferBodyBytes;
    this.#maxBodyBytes = settings.maxBodyBytes;
    this.#forwardedHeaders = new ForwardedHeaders(trusts);
  }

  run(ctx: RequestContext): void {
    this.#forwardedHeaders.add(ctx);
    const exchange = new UpstreamExchange(ctx, this);
    ctx.client.attach(exchange);
    if (!ctx.hasBody || ctx.body !== null) {
      // No body, or one an earlier phase read whole.
      this.#send(ctx, exchange, ctx.body);
    } else if (!ctx.chunked && ctx.contentLength <= this.#bufferBodyBytes) {
      readWholeBody(ctx.client, ctx.contentLength, (body) => {
        if (exchange.over) return;
        const readAt = performance.now();
        ctx.bodyRead(body, readAt);
        this.#send(ctx, exchange, body, readAt);
      });
    } else {
      const body = ctx.pendingBody ?? streamRequestBody(ctx.client, this.#maxBodyBytes);
      ctx.streamedBody = body;
      exchange.attachBody(body);
      // Sent last after the try went out (and before an early answer): the node has the request whole only now.
      if (ctx.plan!.timed) {
        body.whenSent(() => {
          if (ctx.triedAt !== 0 && ctx.headAt === 0) ctx.triedAt = performance.now();
        });
      }
      this.#send(ctx, exchange, body.stream);
    }
  }

  nodeDone(ctx: RequestContext): void {
    this.#finisher.nodeDone(ctx);
  }

  probeAnswered(ctx: RequestContext): void {
    this.#finisher.probeAnswered(ctx);
  }

  answered(ctx: RequestContext): void {
    this.#finisher.answered(ctx);
  }

  finish(ctx: RequestContext): void {
    this.#finisher.finish(ctx);
  }

  retry(ctx: RequestContext, reason: number): boolean {
    const wait = this.#retrier.next(ctx, reason);
    if (wait < 0) return false;
    new RetryWait(ctx, this.#finisher, wait, this.#sendRetry);
    return true;
  }

  #retry(ctx: RequestContext): void {
    // The backoff ran late (a busy event loop): a try with next to no time left would only time
    // out, blaming a node that did nothing.
    if (ctx.plan!.retries!.tryTimeoutMs(performance.now(), ctx.wholeAt) < MIN_TRY_MS) return this.#outOfTime(ctx);
    const exchange = new UpstreamExchange(ctx, this);
    ctx.client.handOver(exchange);
    if (ctx.retries === 1) ctx.headers.push(ATTEMPT_HEADER, '2');
    else ctx.headers[ctx.headers.length - 1] = String(ctx.retries + 1);
    this.#send(ctx, exchange, ctx.body);
  }

  /** GATEWAY_UPSTREAM_TIMEOUT_MS ran out between two tries: the next node is let go, untried. */
  #outOfTime(ctx: RequestContext): void {
    this.#finisher.nodeDone(ctx);
    this.#finisher.letProbeGo(ctx);
    ctx.node = -1;
    ctx.errorCode = 'ERR_UPSTREAM_TIMEOUT';
    ctx.status = errorStatus('ERR_UPSTREAM_TIMEOUT');
    ctx.client.answerJson(statusLine(ctx.status), errorJson('ERR_UPSTREAM_TIMEOUT'), false);
    this.#finisher.finish(ctx);
  }

  /** `now`: a clock reading taken just before, in the same step (one reading fewer), or -1. */
  #send(ctx: RequestContext, exchange: UpstreamExchange, body: Buffer | Readable | null, now = -1): void {
    const plan = ctx.plan!;
    if (plan.timed) ctx.triedAt = now >= 0 ? now : performance.now();
    if (this.#tracing !== null) this.#tracing.forwarding(ctx);
    const policy = plan.retries;
    // A retry's try gets what is left of GATEWAY_UPSTREAM_TIMEOUT_MS (or less, perTryTimeoutMs).
    const tryMs = policy === null ? undefined : ctx.retries === 0 ? policy.firstTryTimeoutMs : policy.tryTimeoutMs(performance.now(), ctx.wholeAt);
    const pool = plan.pools[ctx.member]!;
    if (tryMs !== undefined) exchange.limitTry(tryMs, pool);
    // A connection that takes the try inside dispatch() (an idle one, most often) needs no clock of its own.
    this.dispatching = exchange;
    pool.dispatch({ path: ctx.target, method: ctx.method, headers: ctx.headers, body }, exchange);
    this.dispatching = null;
  }
}
