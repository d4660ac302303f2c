import { Buffer } from 'node:buffer';
import type { HttpResponse } from 'uWebSockets.js';
import { NO_LISTENER, type ClientListener, type HeaderField } from './client-contract.js';
import { ClientPushBack } from './client-push-back.js';
import { responseHeadBlock } from './head-block.js';
import { connectionsClosing, lastHeadFields } from './thread-drain.js';
import { RawFields } from '../upstream/raw-fields.js';

/**
 * Every uWebSockets.js response call of the gateway, behind one object per request: status and
 * headers, corking, streaming with tryEnd/onWritable (resuming from the write offset), onAborted,
 * onData, pause/resume. It follows the uWS.js examples' rules: onAborted is attached before the
 * handler returns whenever the answer may come later (attach), every write made outside the handler is corked, and
 * nothing touches the native response once uWS considers it complete or aborted. It knows nothing
 * of routing or upstreams.
 */
export class ClientResponse {
  /** X-Request-Id, written on every head this response writes (request-id.ts); '' before admit. */
  requestId = '';
  /** The request is a HEAD: the gateway's own answers to it have no body either. */
  headRequest = false;
  #listener: ClientListener = NO_LISTENER;
  #attached = false;
  readonly #res: HttpResponse;
  #aborted = false;
  /** We closed the connection: its onAborted is our own doing. */
  #closedByUs = false;
  /** uWS considers the response complete (or the connection is closed): the res object is dead. */
  #responded = false;
  #statusLine = '';
  /** The header fields of the answer it forwards (a node's, or a stored or shared one), written as they are. */
  #fields = RawFields.EMPTY;
  /** This client's own headers after them (RateLimit-*), or null. */
  #ownHeaders: readonly HeaderField[] | null = null;
  #headWritten = false;
  /** Declared body length, or -1 for chunked / close-delimited bodies. */
  #totalSize = -1;
  /** Body bytes handed to write() (zone-crossing metrics). */
  #bytesWritten = 0;
  /** Request body bytes the client has sent so far (access log, zone-crossing metrics). */
  #bodyBytesRead = 0;
  /** Made at the first pause of the body or push-back of the answer: most requests have neither. */
  #pushBack: ClientPushBack | null = null;

  constructor(res: HttpResponse) {
    this.#res = res;
  }

  /**
   * The owner of a response answered after the handler returns: hears of aborts from now on.
   * Called inside the handler (uWS wants onAborted before it returns); answers made in the
   * handler itself need none, and skip its cost.
   */
  attach(listener: ClientListener): void {
    this.#listener = listener;
    // Once is enough: the handler reads whichever listener is current.
    if (this.#attached) return;
    this.#attached = true;
    this.#res.onAborted(() => {
      this.#responded = true;
      // Nothing waits to be written any more: an owner that goes on for others must not wait for a drain.
      this.#pushBack?.stop();
      if (this.#closedByUs) return;
      this.#aborted = true;
      this.#listener.clientAborted();
    });
  }

  /** Another owner hears of aborts from now on (a retry's exchange), onAborted staying as attached. */
  handOver(listener: ClientListener): void {
    this.#listener = listener;
  }

  /** The client went away (a close of ours does not count). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** The response is complete, or the connection closed: nothing more can be written. */
  get responded(): boolean {
    return this.#responded;
  }

  get headWritten(): boolean {
    return this.#headWritten;
  }

  /** A chunk is waiting for the socket to drain. */
  get backpressured(): boolean {
    return this.#pushBack?.holding === true;
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  get bodyBytesRead(): number {
    return this.#bodyBytesRead;
  }

  /** The peer's address as uWS gives it: 4 bytes (IPv4) or 16 (IPv6). */
  remoteAddress(): Uint8Array {
    return new Uint8Array(this.#res.getRemoteAddress());
  }

  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): void {
    this.#res.onData((chunk, isLast) => {
      this.#bodyBytesRead += chunk.byteLength;
      handler(chunk, isLast);
    });
  }

  pause(): void {
    if (this.#responded) return;
    this.#res.pause();
    this.#pushedBack().uploadPaused(true);
  }

  resume(): void {
    if (this.#responded) return;
    this.#res.resume();
    this.#pushBack?.uploadPaused(false);
  }

  /** A whole JSON answer; valid inside the uWS handler and after an await alike. */
  answerJson(statusLine: string, body: string, closeConnection: boolean, retryAfter: string | null = null, extra: readonly HeaderField[] | null = null): void {
    if (this.#responded) return;
    this.#responded = true;
    // While the thread drains, every answer moves its client off the connection (closeConnectionsFromNowOn).
    closeConnection ||= connectionsClosing();
    const res = this.#res;
    res.cork(() => {
      res.writeStatus(statusLine).writeHeader('content-type', 'application/json').writeHeader('x-request-id', this.requestId);
      if (retryAfter !== null) res.writeHeader('retry-after', retryAfter);
      if (extra !== null) for (let i = 0; i < extra.length; i += 2) res.writeHeader(extra[i]!, extra[i + 1]!);
      // A HEAD on a connection that stays open gets the head a GET would get and no body (a front
      // proxy would read one as its next answer). Not so on one that closes: this uWS build keeps a
      // connection serving only after endWithoutBody() without arguments, and closes none after it
      // (given a length, the response stays pending; undefined, it writes a length of 2^63).
      if (!this.headRequest || closeConnection) return void res.end(body, closeConnection);
      res.writeHeader('content-length', String(Buffer.byteLength(body)));
      res.endWithoutBody();
    });
  }

  /**
   * A whole answer kept from before or shared (a replay, a multiplexed call): status, header fields
   * and body, then this client's own headers. `bodiless` (a 204 or 304): no body and no
   * Content-Length, which uWS's end() would otherwise write (RFC 9110 §8.6 forbids it on a 204).
   */
  answerStored(statusLine: string, fields: RawFields, body: Buffer, ownHeaders: readonly HeaderField[] | null, bodiless = false): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#bytesWritten += body.length;
    this.#statusLine = statusLine;
    this.#fields = fields;
    this.#ownHeaders = ownHeaders;
    this.#res.cork(() => {
      this.#writeHead();
      if (bodiless) this.#res.endWithoutBody();
      else this.#res.end(body);
    });
  }

  /** The head of the response, written together with its first bytes; `ownHeaders` (this client's RateLimit-*) come last. */
  startResponse(statusLine: string, fields: RawFields, ownHeaders: readonly HeaderField[] | null, totalSize: number): void {
    this.#statusLine = statusLine;
    this.#fields = fields;
    this.#ownHeaders = ownHeaders;
    this.#totalSize = totalSize;
  }

  /**
   * Writes a body chunk; false when the socket pushed back, and then `clientWritable` follows
   * once it drained. With a declared length, `beforeLastBytes` comes just before the last bytes.
   */
  write(chunk: Buffer): boolean {
    if (this.#responded) return !this.#aborted;
    this.#bytesWritten += chunk.length;
    let writable = true;
    const res = this.#res;
    res.cork(() => {
      this.#writeHead();
      if (this.#totalSize < 0) {
        writable = res.write(chunk);
        return;
      }
      const offset = res.getWriteOffset();
      if (offset + chunk.length >= this.#totalSize) this.#listener.beforeLastBytes();
      // The whole body at once: end() writes the same Content-Length and keeps what the socket did
      // not take, as our push-back would, without the array tryEnd answers with (1,400 instructions).
      if (offset === 0 && chunk.length === this.#totalSize) {
        this.#responded = true;
        return void res.end(chunk);
      }
      writable = this.#tryEnd(chunk, offset);
    });
    if (!writable) this.#pushedBack().awaitWritable();
    return writable;
  }

  /**
   * tryEnd of a chunk starting at body offset `offset`; false when uWS did not take all of it. The
   * chunk may be a view of a read buffer that is reused: what uWS did not take is copied.
   */
  #tryEnd(chunk: Buffer, offset: number): boolean {
    const [ok, done] = this.#res.tryEnd(chunk, this.#totalSize);
    if (done) this.#responded = true;
    if (done || ok) return true;
    this.#pushedBack().hold(chunk, offset, this.#res.getWriteOffset());
    return false;
  }

  /** Ends a response whose body was all written (chunked), or that has none (`reportedLength`: its Content-Length, if any). */
  end(noBody: boolean, reportedLength?: number): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#res.cork(() => {
      this.#writeHead(reportedLength);
      if (!noBody) this.#res.end();
      else this.#res.endWithoutBody();
    });
  }

  /** Closes the connection at once (no answer, or a truncated one that must not look complete). */
  close(): void {
    if (this.#responded) return;
    this.#responded = true;
    this.#closedByUs = true; // close() runs onAborted synchronously
    this.#res.close();
  }

  /** What holds a pushed-back write and watches a stalled connection (client-push-back.ts), made when first needed. */
  #pushedBack(): ClientPushBack {
    return (this.#pushBack ??= new ClientPushBack(this.#res, {
      aborted: () => this.#aborted,
      responded: () => this.#responded,
      totalSize: () => this.#totalSize,
      completed: () => void (this.#responded = true),
      writable: () => this.#listener.clientWritable(),
    }));
  }

  /** `reportedLength`: a bodiless answer's Content-Length (a HEAD's, a 304's), if it has one. */
  #writeHead(reportedLength?: number): void {
    if (this.#headWritten) return;
    this.#headWritten = true;
    this.#res.writeStatus(responseHeadBlock(this.#statusLine, this.requestId, this.#fields, lastHeadFields(this.#ownHeaders, reportedLength)));
  }
}
