import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HttpResponse } from 'uWebSockets.js';
import type { ErrorCode } from '../errors.js';
import { dropConnectionTokens, HOP_BY_HOP } from './hop-by-hop.js';
import { RawHeaderNames } from './raw-header-names.js';
import { classifyUpstreamError } from './upstream-errors.js';
import { answerError, statusLine } from './uws-respond.js';

/** Response headers that are hop-by-hop, or that uWS writes itself (Content-Length, Date). */
const RESPONSE_DROPPED = new RawHeaderNames([...HOP_BY_HOP, 'content-length', 'date']);

/** nginx's convention for "client closed the request before the answer": counted, never sent. */
export const CLIENT_CLOSED_STATUS = 499;

export interface ExchangeOwner {
  /**
   * Called exactly once per exchange, when the node is done with the request: before the client
   * can see the end of the answer, so a client that waits for its answer before sending again
   * never finds the node still counting the last one (bounded-load routing reads that count).
   */
  nodeReleased(exchange: ProxyExchange): void;
  /** Called exactly once per exchange, after nodeReleased, with the status answered (or CLIENT_CLOSED_STATUS). */
  exchangeFinished(exchange: ProxyExchange, status: number, errorCode: ErrorCode | undefined): void;
}

/**
 * One proxied request: an undici dispatch handler that streams the upstream response into the uWS
 * response with backpressure (tryEnd/onWritable for known lengths, write/onWritable otherwise), and
 * ties the two lifetimes together: a client abort aborts the upstream request, an upstream failure
 * before the head becomes a JSON error, and one after it closes the client connection so a
 * truncated body is never presented as complete.
 */
export class ProxyExchange implements Dispatcher.DispatchHandler {
  readonly routeIndex: number;
  /** The upstream node's index in the shared node table. */
  readonly node: number;
  /** Slot of the request's tenant in the shared tenant table, or -1. */
  readonly tenantSlot: number;
  readonly startedAt: number;
  readonly #res: HttpResponse;
  readonly #owner: ExchangeOwner;
  readonly #headOnly: boolean;
  /** The request body may still be arriving: an early answer must close the connection. */
  readonly #hasBody: boolean;
  #body: Readable | null = null;
  #abortUpstream: ((reason: Error) => void) | null = null;
  #resumeUpstream: (() => void) | null = null;

  #clientGone = false;
  /** We force-closed the client connection: its onAborted is our own doing. */
  #closedByUs = false;
  #finished = false;
  #nodeReleased = false;
  #headWritten = false;
  /** uWS considers the response complete (the res object is dead from here on). */
  #responded = false;
  #status = 0;
  /** Forwarded response headers as undici's raw [name, value, …] Buffers, which uWS takes as they are. */
  #headers: Buffer[] = [];
  /** Upstream Content-Length, or -1 for chunked / close-delimited bodies. */
  #totalSize = -1;
  #noBody = false;
  #pending: Buffer | null = null;
  #pendingOffset = 0;
  #completeWhenWritable = false;

  constructor(
    res: HttpResponse,
    owner: ExchangeOwner,
    routeIndex: number,
    node: number,
    tenantSlot: number,
    headOnly: boolean,
    hasBody: boolean,
    startedAt: number,
  ) {
    this.#res = res;
    this.#owner = owner;
    this.routeIndex = routeIndex;
    this.node = node;
    this.tenantSlot = tenantSlot;
    this.#headOnly = headOnly;
    this.#hasBody = hasBody;
    this.startedAt = startedAt;
    res.onAborted(() => this.#onClientGone());
  }

  /** The client went away (or the exchange is over): nothing more should be sent upstream. */
  get clientGone(): boolean {
    return this.#clientGone;
  }

  attachBody(body: Readable): void {
    this.#body = body;
  }

  // ---- undici handler ----

  onConnect(abort: (err?: Error) => void): void {
    if (this.#clientGone) abort(new Error('client closed the request'));
    else this.#abortUpstream = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (this.#clientGone) return false;
    if (status < 200) return true; // 1xx: informational, not forwarded
    this.#status = status;
    this.#resumeUpstream = resume;
    this.#noBody = this.#headOnly || status === 204 || status === 304;
    let connection: string | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      const dropped = RESPONSE_DROPPED.find(name);
      if (dropped === null) this.#headers.push(name, rawHeaders[i + 1]!);
      else if (dropped === 'content-length') this.#totalSize = Number(rawHeaders[i + 1]!.toString('latin1'));
      else if (dropped === 'connection') connection = rawHeaders[i + 1]!.toString('latin1');
    }
    if (connection !== undefined) dropConnectionTokens(this.#headers, connection);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.#clientGone || this.#responded) return !this.#clientGone;
    let writable = true;
    this.#res.cork(() => {
      this.#writeHead();
      if (this.#totalSize >= 0) {
        const offset = this.#res.getWriteOffset();
        if (offset + chunk.length >= this.#totalSize) this.#releaseNode(); // the last bytes
        const [ok, done] = this.#res.tryEnd(chunk, this.#totalSize);
        if (done) this.#responded = true;
        else if (!ok) {
          this.#pending = chunk;
          this.#pendingOffset = offset;
          writable = false;
        }
      } else {
        writable = this.#res.write(chunk);
      }
    });
    if (!writable) this.#res.onWritable((offset) => this.#onWritable(offset));
    return writable;
  }

  onComplete(): void {
    if (this.#clientGone || this.#finished) return;
    if (this.#pending !== null) {
      this.#completeWhenWritable = true;
      return;
    }
    this.#endResponse();
  }

  onError(err: Error): void {
    if (this.#finished) return;
    this.#releaseNode();
    if (this.#clientGone) {
      this.#finish(undefined);
      return;
    }
    const code = classifyUpstreamError(err);
    if (!this.#headWritten) {
      this.#responded = true;
      this.#status = answerError(this.#res, code, this.#hasBody);
      this.#finish(code);
      return;
    }
    // Bytes were sent: a clean close is the only honest end of a truncated response.
    this.#status = 502;
    this.#closeClient();
    this.#finish(code);
  }

  // ---- client side ----

  #onClientGone(): void {
    if (this.#closedByUs) return;
    this.#clientGone = true;
    this.#abortUpstream?.(new Error('client closed the request'));
    this.#finish(undefined);
  }

  #onWritable(offset: number): boolean {
    if (this.#clientGone || this.#finished) return true;
    const pending = this.#pending;
    if (pending !== null) {
      const [ok, done] = this.#res.tryEnd(pending.subarray(offset - this.#pendingOffset), this.#totalSize);
      if (done) this.#responded = true;
      else if (!ok) return false;
      this.#pending = null;
    }
    if (this.#completeWhenWritable) this.#endResponse();
    else this.#resumeUpstream?.();
    return true;
  }

  #writeHead(): void {
    if (this.#headWritten) return;
    this.#headWritten = true;
    const res = this.#res;
    res.writeStatus(statusLine(this.#status));
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i += 2) res.writeHeader(headers[i]!, headers[i + 1]!);
  }

  #endResponse(): void {
    this.#releaseNode();
    if (!this.#responded) {
      this.#responded = true;
      this.#res.cork(() => {
        this.#writeHead();
        if (this.#noBody) {
          if (this.#totalSize >= 0 && this.#status !== 204) this.#res.endWithoutBody(this.#totalSize);
          else this.#res.endWithoutBody();
        } else if (this.#totalSize > 0) {
          // undici enforces Content-Length, so a short body cannot complete; never claim it did.
          this.#status = 502;
          this.#closedByUs = true;
          this.#res.close();
        } else {
          this.#res.end();
        }
      });
    }
    this.#finish(undefined);
  }

  #closeClient(): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#closedByUs = true; // close() runs onAborted synchronously
    this.#res.close();
  }

  #releaseNode(): void {
    if (this.#nodeReleased) return;
    this.#nodeReleased = true;
    this.#owner.nodeReleased(this);
  }

  #finish(errorCode: ErrorCode | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#releaseNode();
    if (this.#body !== null && !this.#body.destroyed) this.#body.destroy();
    const status = this.#clientGone ? CLIENT_CLOSED_STATUS : this.#status;
    this.#owner.exchangeFinished(this, status, errorCode);
  }
}
