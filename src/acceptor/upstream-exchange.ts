import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { AnsweredCode } from '../errors.js';
import { errorStatus, statusLine } from './answers.js';
import { forwardResponseHead } from './response-head.js';
import { CLIENT_CLOSED_STATUS, type RequestContext } from './request-context.js';
import type { ExchangeOwner } from './exchange-owner.js';
import { answerFailedTry, closeTruncated } from './exchange-failure.js';
import type { RequestBody } from './request-body.js';
import { classifyUpstreamError, retryReasonOf, skipInformational, statusRetryReason } from './upstream-errors.js';
import type { ClientListener } from './client-contract.js';
import type { ClientResponse } from './uws-adapter.js';
import type { LeaderBacklog } from './leader-backlog.js';
import { TryDeadline, type TimedTry } from './try-deadline.js';
import { ReadOn } from './read-on.js';
import { QUEUE_TIMEOUT, type UpstreamDispatcher, type UpstreamHandler } from '../upstream/dispatcher.js';
import type { RawFields } from '../upstream/raw-fields.js';

/**
 * The forward and respond phases of one proxied request: the node pool's handler, which streams
 * the upstream response into the client's response with backpressure, and ties the two lifetimes
 * together: a client abort aborts the upstream request, an upstream failure before the head
 * becomes a JSON error, and one after it closes the client connection so a truncated body is never
 * presented as complete. It knows nothing of routing: the owner records the ending.
 */
export class UpstreamExchange implements UpstreamHandler, ClientListener, TimedTry {
  readonly #ctx: RequestContext;
  readonly #client: ClientResponse;
  readonly #owner: ExchangeOwner;
  #body: RequestBody | null = null;
  #abortUpstream: ((reason: Error) => void) | null = null;
  #resumeUpstream: (() => void) | null = null;
  #finished = false;
  /** The client left, and the answer is still read for a keyed write's key or a multiplexed call's followers. */
  #readOn: ReadOn | null = null;
  #nodeDone = false;
  /** Upstream Content-Length, or -1 for chunked / close-delimited bodies. */
  #totalSize = -1;
  /** Body bytes received so far. */
  #received = 0;
  #noBody = false;
  #completeWhenWritable = false;
  /** A multiplexed call's leader: how its answer reaches this client while others share it. */
  #lead: LeaderBacklog | null = null;
  /** The try's own deadline for the answer's head (retries), when its route has one. */
  #deadline: TryDeadline | null = null;

  /** The owner makes it the client's listener (attach, or handOver for a retry). */
  constructor(ctx: RequestContext, owner: ExchangeOwner) {
    this.#ctx = ctx;
    this.#client = ctx.client;
    this.#owner = owner;
  }

  /** Nothing more should be sent upstream: the client went away, or the exchange is over. */
  get over(): boolean {
    return this.#finished;
  }

  attachBody(body: RequestBody): void {
    this.#body = body;
    // Past the body limit while the request waits for a connection, nothing reads the stream yet: the try fails here (an
    // 'error' with no listener would end the thread); on a connection the client hears of it (the own one as it writes, at the turn's end).
    body.stream.on('error', (err) => {
      if (this.#abortUpstream === null) this.onError(err);
    });
  }

  /** The try fails as timed out unless the answer's head comes within `ms` of the request being whole (try-deadline.ts). */
  limitTry(ms: number, pool: UpstreamDispatcher): void {
    this.#deadline = new TryDeadline(this, pool, ms, this.#body);
  }

  awaitingHead(): boolean {
    // A call that goes on for others after its client left (a 499, not a head's status) is still timed.
    return !this.#finished && (this.#ctx.status === 0 || this.#readOn !== null);
  }

  abortOnConnection(err: Error): boolean {
    this.#abortUpstream?.(err);
    return this.#abortUpstream !== null;
  }

  // ---- the pool's handler ----

  get wanted(): boolean {
    // Also false for one that failed while it waited and answers once the client sent its body (answerFailedTry).
    return !this.#finished && this.#ctx.errorCode === undefined;
  }

  onConnect(abort: (err?: Error) => void): boolean {
    if (!this.wanted) return false;
    this.#abortUpstream = abort;
    this.#ctx.reachedNode = true;
    // After a wait for a connection (or undici's own connect): the node has the request only now.
    if (this.#ctx.triedAt !== 0 && this.#owner.dispatching !== this) this.#ctx.triedAt = performance.now();
    return true;
  }

  onHeaders(status: number, fields: RawFields, resume: () => void): boolean {
    if (this.#finished) return false;
    if (status < 200 || status > 599) return skipInformational(status, this.#abortUpstream);
    const ctx = this.#ctx;
    this.#deadline?.clear();
    if (ctx.triedAt !== 0) ctx.headAt = performance.now();
    ctx.status = status;
    ctx.headStatus = status;
    if (ctx.probe) this.#owner.probeAnswered(ctx);
    if (status >= 502 && status <= 504 && ctx.plan!.retries?.retriesStatuses === true && this.#handOff(statusRetryReason(status))) return true;
    this.#resumeUpstream = resume;
    this.#noBody = ctx.method === 'HEAD' || status === 204 || status === 304;
    this.#totalSize = forwardResponseHead(ctx, fields);
    ctx.capture?.start(status, fields);
    this.#lead = ctx.batch?.head(status, statusLine(status), fields, this.#noBody, this) ?? null;
    // This client's RateLimit headers are its own: not kept for a replay, nor given to followers.
    this.#client.startResponse(statusLine(status), fields, ctx.limitHeaders, this.#totalSize);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#finished) return false;
    this.#received += chunk.length;
    this.#ctx.capture?.add(chunk);
    this.#ctx.batch?.chunk(chunk);
    if (this.#readOn === null) return this.#lead === null ? this.#client.write(chunk) : this.#lead.write(chunk);
    // Past the drain's deadline, a keyed write's answer grown too large to keep is not read to its end.
    return this.#readOn.wanted(this.#ctx) || !this.abortOnConnection(new Error('too large to keep, past the drain deadline'));
  }

  onComplete(): void {
    if (this.#finished) return;
    // A chunk still waits for the client (or a leader's, held): the response ends once it took it (clientWritable).
    if (this.#lead?.complete(this.#received >= this.#totalSize) === true || this.#client.backpressured) this.#completeWhenWritable = true;
    else this.#endResponse();
  }

  onError(err: Error): void {
    // Ended, or answering an earlier failure once the client sent its body: a later error (its
    // pool's wait running out, undici aborting it on a connection) changes nothing.
    if (!this.wanted) return;
    // Its pool's wait for a connection ran out: the node never had it (it may have gone on for others after its client left).
    this.#ctx.waitedOut = (err as { code?: unknown }).code === QUEUE_TIMEOUT;
    const code = classifyUpstreamError(err);
    if (this.#readOn !== null) {
      // Every client left and we stopped the call: nothing to say of the node.
      if (this.#readOn.abandoned) return this.#finish(undefined);
      // Followers already streaming part of the answer are cut off; those holding it whole get the error.
      this.#ctx.batch?.fail(code);
      return this.#finish(code);
    }
    if (this.#client.aborted) {
      // Our own abort of the upstream request, called back from inside clientAborted.
      this.#ctx.status = CLIENT_CLOSED_STATUS;
      return this.#finish(undefined);
    }
    this.#ctx.refused = (err as { code?: unknown }).code === 'ECONNREFUSED';
    if (this.#ctx.status === 0) {
      this.#ctx.errorCode = code;
      this.#ctx.status = errorStatus(code);
      if (this.#handOff(retryReasonOf(err))) return;
    }
    this.#releaseNode();
    answerFailedTry(this.#ctx, code, this.#body, () => this.#finished, () => this.#finish(code));
  }

  /**
   * Offers the failed try to the owner for a retry: never once an answer's head went to the
   * client, nor with a body that streamed (it cannot be sent twice).
   */
  #handOff(reason: number): boolean {
    if (reason < 0 || this.#body !== null || this.#client.headWritten || this.#readOn !== null) return false;
    this.#deadline?.clear();
    // The owner releases this try's node once it grants the retry (and holds the next one).
    if (!this.#owner.retry(this.#ctx, reason)) return false;
    this.#nodeDone = true;
    this.#finished = true;
    // A retried answer (a 503) is unwanted: its connection goes, as draining it would let the node's pool queue past maxInFlight.
    this.#abortUpstream?.(new Error('retried on another node'));
    return true;
  }

  // ---- client side ----

  clientAborted(): void {
    if (this.#finished) return;
    this.#ctx.status = CLIENT_CLOSED_STATUS;
    // A keyed write, or a multiplexed call with followers, reads on (read-on.ts); else the node's request is aborted.
    this.#readOn = ReadOn.after(this.#ctx, this.#abortUpstream !== null, (evenSent) => this.#stop(evenSent));
    // Nothing waits for this client's socket to drain any more: read on, or end now.
    if (this.#readOn !== null) return this.clientWritable();
    this.#abortUpstream?.(new Error('client closed the request'));
    this.#finish(undefined);
  }

  clientWritable(): void {
    if (this.#finished) return;
    if (this.#completeWhenWritable) this.#endResponse();
    else this.#resumeUpstream?.();
  }

  beforeLastBytes(): void {
    this.#body?.dropRest();
    this.#releaseNode();
    this.#owner.answered(this.#ctx);
  }

  #endResponse(): void {
    this.#releaseNode();
    const client = this.#client;
    const ctx = this.#ctx;
    const reported = this.#noBody && this.#totalSize >= 0 && ctx.status !== 204 ? this.#totalSize : undefined;
    if (!this.#noBody && this.#totalSize > 0 && this.#received < this.#totalSize) {
      // Both clients enforce Content-Length, so a short body cannot complete; never claim it did.
      closeTruncated(ctx, 'ERR_UPSTREAM_PROTOCOL');
      return this.#finish('ERR_UPSTREAM_PROTOCOL');
    }
    // tryEnd may have completed a declared-length response already; otherwise end it here.
    if (!client.responded) {
      this.#body?.dropRest();
      this.#owner.answered(ctx);
      client.end(this.#noBody, reported);
    }
    ctx.batch?.end(reported);
    this.#finish(undefined);
  }

  /** Nobody wants the call any more (read-on.ts), not the node's failure: unsent, it ends now (a connection declines it); sent, it is aborted if `evenSent`. */
  #stop(evenSent: boolean): void {
    if (this.#abortUpstream === null) this.#finish(undefined);
    else if (evenSent) this.#abortUpstream(new Error('every client left'));
  }

  #releaseNode(): void {
    if (this.#nodeDone) return;
    this.#nodeDone = true;
    this.#owner.nodeDone(this.#ctx);
  }

  #finish(errorCode: AnsweredCode | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#readOn?.ended(this.#ctx);
    this.#deadline?.clear();
    this.#releaseNode();
    if (this.#body !== null && !this.#body.stream.destroyed) this.#body.stream.destroy();
    this.#ctx.errorCode = errorCode;
    this.#owner.finish(this.#ctx);
  }
}
