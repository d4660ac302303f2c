import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { Dispatcher, Pool } from 'undici';
import { queueTimeout, upstreamError, type UpstreamDispatcher, type UpstreamHandler, type UpstreamRequest } from './dispatcher.js';
import { RawFields } from './raw-fields.js';
import { joinSweep, leaveSweep, sweepTickMs, type Swept } from './sweeps.js';

/**
 * undici's handler of one request: passes everything on, the answer's raw headers as RawFields.
 * One still waiting for a connection is in its pool's `waiting` set until it gets one or fails.
 */
class FieldsHandler implements Dispatcher.DispatchHandler {
  readonly #handler: UpstreamHandler;
  readonly #waiting: QueueDeadline;
  /** When it was dispatched (performance.now()), once it had to wait for a connection; 0 before. */
  queuedAt = 0;
  /** A connection took it, or it failed: it waits no more. */
  settled = false;
  /** It ended before a connection took it (it waited too long, or its handler declined it): undici's later onConnect is declined, its onError not passed on. */
  #expired = false;
  /** undici's abort of the request on its connection, from onConnect. */
  #abort: ((err?: Error) => void) | null = null;
  /**
   * From the first interim (1xx) head: undici starts its head timeout again at each one, so a node
   * sending 102 Processing every few seconds would hold the request for good. After the first, the
   * final head must come within the timeout, as the gateway's own client has it.
   */
  #finalHeadDeadline: NodeJS.Timeout | null = null;

  constructor(handler: UpstreamHandler, waiting: QueueDeadline) {
    this.#handler = handler;
    this.#waiting = waiting;
  }

  expire(err: Error): void {
    this.#expired = true;
    this.#handler.onError(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    // undici's abort closes the connection even before a byte was written; a throw here fails the
    // request as unsent (its onError, swallowed below) and leaves the connection to the next one.
    if (this.#expired || !this.#handler.onConnect(abort)) {
      this.#expired = true;
      this.#settle();
      throw DECLINED;
    }
    this.#abort = abort;
    this.#settle();
  }

  onHeaders(status: number, headers: Buffer[], resume: () => void): boolean {
    // llhttp decodes chunked only, and reads any other transfer coding's body to the close as it
    // is: its Transfer-Encoding (hop-by-hop) is dropped on the way, so the client would get coded
    // bytes as the content. Refused as the gateway's own client refuses it (response-head.ts) and
    // nginx does ("upstream sent unknown Transfer-Encoding").
    if (status < 200) {
      this.#finalHeadDeadline ??= setTimeout(this.#headTimedOut, this.#waiting.timeoutMs).unref();
    } else {
      this.#endFinalHeadDeadline();
      if (!plainTransferCoding(headers)) {
        this.#abort?.(upstreamError('HPE_INVALID_TRANSFER_ENCODING', 'a transfer coding other than chunked'));
        return false;
      }
    }
    return this.#handler.onHeaders(status, RawFields.fromList(headers), resume);
  }

  readonly #headTimedOut = (): void => {
    this.#finalHeadDeadline = null;
    this.#abort?.(upstreamError('UND_ERR_HEADERS_TIMEOUT', 'the node sent interim heads but no answer within the timeout'));
  };

  #endFinalHeadDeadline(): void {
    if (this.#finalHeadDeadline === null) return;
    clearTimeout(this.#finalHeadDeadline);
    this.#finalHeadDeadline = null;
  }

  onData(chunk: Buffer): boolean {
    return this.#handler.onData(chunk);
  }

  onComplete(): void {
    this.#handler.onComplete();
  }

  onError(err: Error): void {
    this.#endFinalHeadDeadline();
    if (this.#expired) return;
    this.#settle();
    this.#handler.onError(err);
  }

  #settle(): void {
    this.settled = true;
    if (this.queuedAt !== 0) this.#waiting.delete(this);
  }
}

/**
 * undici's Pool lets a request wait for a connection without limit: one that waited a whole
 * timeout fails as timed out, unsent, as with the gateway's own client (h1/node-client.ts). A
 * request is kept here from dispatch to its onConnect (or failure); the thread's sweep checks them
 * while there are any. An expired request stays in undici's queue (it has no way to take one out)
 * until a connection declines it unsent.
 */
class QueueDeadline implements Swept {
  readonly #pool: Pool;
  readonly #connections: number;
  /** The node's timeout: how long a request may wait for a connection, or for its head. */
  readonly timeoutMs: number;
  readonly #tickMs: number;
  /** Oldest first (a Set keeps insertion order). */
  readonly #waiting = new Set<FieldsHandler>();
  /** A member of the thread's sweep. */
  #swept = false;

  constructor(pool: Pool, connections: number, timeoutMs: number) {
    this.#pool = pool;
    this.#connections = connections;
    this.timeoutMs = timeoutMs;
    this.#tickMs = sweepTickMs(timeoutMs);
  }

  add(handler: FieldsHandler): void {
    handler.queuedAt = performance.now();
    if (!this.#swept) {
      this.#swept = true;
      joinSweep(this.#tickMs, this);
    }
    this.#waiting.add(handler);
  }

  delete(handler: FieldsHandler): void {
    this.#waiting.delete(handler);
  }

  sweep(): void {
    // Leaves at a tick that finds nobody waiting, not at each delete: a request at a time would
    // otherwise start and stop the thread's sweep timer every time.
    if (this.#waiting.size === 0) {
      this.#swept = false;
      leaveSweep(this.#tickMs, this);
      return;
    }
    const now = performance.now();
    let err: Error | null = null;
    for (const handler of this.#waiting) {
      if (now - handler.queuedAt < this.timeoutMs) return;
      this.delete(handler);
      handler.expire((err ??= this.waitError()));
    }
  }

  /**
   * undici gives a request its connection only once that connected (and its TLS handshake ended):
   * a wait with every connection up and busy is the pool's, and excuses the node; one with a
   * connection still opening is the node's slowness to accept it (or to shake hands).
   */
  waitError(): Error & { code: string } {
    const { connected, free } = this.#pool.stats;
    return connected >= this.#connections && free === 0 ? queueTimeout() : upstreamError('UND_ERR_CONNECT_TIMEOUT', 'no connection to the node opened within the timeout');
  }
}

/**
 * The answer's Transfer-Encoding, if any, is one `chunked`: what the body the handler gets was
 * decoded from. `headers`: undici's raw [name, value, …].
 */
function plainTransferCoding(headers: readonly Buffer[]): boolean {
  let codings = 0;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length !== 17 || name.toString('latin1').toLowerCase() !== 'transfer-encoding') continue;
    if (++codings > 1 || headers[i + 1]!.toString('latin1').trim().toLowerCase() !== 'chunked') return false;
  }
  return true;
}

const DECLINED = upstreamError('UND_ERR_ABORTED', 'the request ended while it waited for a connection');

const PAST_ASCII = /[^\x00-\x7f]/;

/**
 * `text` as the client's bytes, one character each: undici writes a head's strings as latin1 (and
 * refuses a character past 0xff), where uWS read the client's bytes as UTF-8. U+FFFD stays, for
 * undici to refuse (400 ERR_BAD_HEADER): uWS put it where the bytes were not UTF-8, and what they
 * were is lost. The own client does the same as it writes (h1/request-head.ts).
 */
function clientBytes(text: string): string {
  return PAST_ASCII.test(text) && !text.includes('\ufffd') ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/** `request` with its target and header values as the client's bytes (clientBytes), in a copy: the request itself stays as it is, for a retry. */
function withClientBytes(request: UpstreamRequest): UpstreamRequest {
  const headers = request.headers;
  let converted: string[] | null = null;
  for (let i = 1; i < headers.length; i += 2) {
    const value = clientBytes(headers[i]!);
    if (value !== headers[i]) (converted ??= [...headers])[i] = value;
  }
  const path = clientBytes(request.path);
  return converted === null && path === request.path ? request : { ...request, path, headers: converted ?? headers };
}

/** An undici pool (an https node, or GATEWAY_UPSTREAM_CLIENT=undici) as a node's dispatcher. */
export class UndiciDispatcher implements UpstreamDispatcher {
  readonly #pool: Pool;
  readonly #queueDeadline: QueueDeadline;

  /** `connections`: the pool's most; `timeoutMs`: how long a request may wait for a connection. */
  constructor(pool: Pool, connections: number, timeoutMs: number) {
    this.#pool = pool;
    this.#queueDeadline = new QueueDeadline(pool, connections, timeoutMs);
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean {
    const fields = new FieldsHandler(handler, this.#queueDeadline);
    const accepted = this.#pool.dispatch(withClientBytes(request), fields);
    // undici writes on a later turn (a microtask for a streamed body, an immediate to check a
    // reused socket, or once it connected): nearly every request waits here a moment.
    if (!fields.settled) this.#queueDeadline.add(fields);
    return accepted;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  destroy(): Promise<void> {
    return this.#pool.destroy();
  }

  waitError(): Error & { code: string } {
    return this.#queueDeadline.waitError();
  }
}
