import { Buffer } from 'node:buffer';
import type net from 'node:net';
import { upstreamError, type UpstreamHandler, type UpstreamRequest } from '../dispatcher.js';
import type { RawFields } from '../raw-fields.js';
import type { ConnectionOptions, ConnectionOwner } from './connection-contract.js';
import { ResponseParser, type ResponseEvents } from './response-parser.js';
import { Upload } from './upload.js';
import { writeAtTurnEnd, type TurnWriter } from './turn-writes.js';
import { HeldRequest } from './held-request.js';
import { connectToNode, READ_BUFFER } from './node-socket.js';

/**
 * One keep-alive HTTP/1.1 connection to a node, carrying one request at a time. It writes the
 * request at the turn's end (turn-writes.ts; a body in hand with its head, a streamed one as it
 * comes), parses the answer and streams it to the request's handler, pausing the socket while the
 * handler cannot take more. A connection whose answer did not end cleanly (an error, an abort, a
 * body not all sent, bytes nobody asked for) is closed, never reused; one whose request was aborted
 * before it went out is kept.
 */
export class H1Connection implements ResponseEvents, TurnWriter {
  readonly #socket: net.Socket;
  readonly #owner: ConnectionOwner;
  readonly #parser: ResponseParser;
  #handler: UpstreamHandler | null = null;
  /** The request held until the turn's end (turn-writes.ts). */
  readonly #held = new HeldRequest();
  readonly #upload: Upload;
  #paused = false;
  /** Bytes of the last read the parser had not taken when the handler paused. */
  #rest: Buffer | null = null;
  /** How the answer ended: null while it has not, else whether the connection may carry another request. */
  #endKeepAlive: boolean | null = null;
  /** From the last answer: how long the node keeps this connection idle (-1: unsaid). */
  idleHintMs = -1;
  /** Sweeps of the pool's clock without progress while it carries a request. */
  quietTicks = 0;
  /** Sweeps of the pool's clock since its last answer ended (or it opened), busy or not: only an answer restarts the node's idle clock. */
  idleTicks = 0;
  #error: Error | null = null;
  /** The node ended its side: no request can follow on this connection. */
  #peerGone = false;
  /** It closed while its request's answer waited for a resume: the pool is told once the request ended. */
  #closeUnheard = false;
  readonly #resume = (): void => this.#resumeReading();

  constructor(options: ConnectionOptions, owner: ConnectionOwner) {
    this.#owner = owner;
    this.#parser = new ResponseParser(this, options.maxHeadBytes);
    const socket = (this.#socket = connectToNode(options, (bytes) => this.#read(bytes)));
    socket.on('error', (err) => (this.#error ??= err));
    socket.on('end', () => this.#peerEnded());
    socket.on('close', () => this.#closed());
    this.#upload = new Upload(socket, { progress: () => (this.quietTicks = 0), failed: (err) => this.destroy(err) });
  }

  /** Carrying a request (from send() to its end or failure). */
  get busy(): boolean {
    return this.#handler !== null;
  }

  /** Idle and still open: the node has not closed it (its close may not have been seen through yet). */
  get usable(): boolean {
    return this.#handler === null && !this.#peerGone && !this.#socket.destroyed;
  }

  /** Its answer paused for the handler, or its upload waiting for the client's next bytes (upload.ts): the node's silence is not its fault. */
  get waitsForClient(): boolean {
    return this.#paused || this.#upload.awaitingClient;
  }

  /** The sweep: the request made no progress for a whole timeout. */
  timedOut(): void {
    this.destroy(upstreamError(this.#parser.inBody ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT', 'the node sent nothing within the timeout'));
  }

  /** Closes the connection; a request it carries fails with `err`. */
  destroy(err: Error): void {
    const handler = this.#handler;
    this.#handler = null;
    this.#socket.destroy();
    handler?.onError(err);
    if (this.#closeUnheard) this.#closed();
  }

  /** Carries `request`; false when nothing was written and the connection is free (its handler declined it, or its head was refused). */
  send(request: UpstreamRequest, handler: UpstreamHandler): boolean {
    this.#handler = handler;
    this.#endKeepAlive = null;
    this.quietTicks = 0;
    this.#parser.expect(request.method);
    const wanted = handler.onConnect((err = upstreamError('UND_ERR_ABORTED', 'request aborted')) => {
      if (this.#handler !== handler) return;
      if (this.#held.head === null) return this.destroy(err);
      // Still held, so never written: the connection is kept, given back at the turn's end (writeHeld).
      this.#handler = null;
      handler.onError(err);
    });
    if (!wanted) {
      this.#handler = null;
      return false;
    }
    // Aborted inside onConnect: the connection is gone.
    if (this.#handler !== handler) return true;
    const headFailed = this.#held.hold(request);
    if (headFailed === null) {
      writeAtTurnEnd(this);
      return true;
    }
    // Not sent on from here: each queued head refused too went a stack frame deeper, till the thread died.
    this.#handler = null;
    handler.onError(headFailed);
    return false;
  }

  writeHeld(): void {
    // The node closed or reset the connection since the request was held: it goes on another, unsent.
    if ((this.#peerGone || this.#socket.destroyed) && this.#handBackUnsent()) return;
    if (this.#handler !== null && this.#held.waitsATurn()) return writeAtTurnEnd(this);
    const handler = this.#handler;
    // Aborted meanwhile, or the node closed or spoke first; or (below) a streamed body failed while
    // held: nothing went out, and the connection goes on as it was, unless it closed meanwhile.
    if (handler === null) this.#held.release();
    else {
      const bodyFailed = this.#held.write(this.#socket, this.#upload);
      if (bodyFailed === null) return;
      this.#handler = null;
      handler.onError(bodyFailed);
    }
    if (this.usable) this.#owner.reusable(this);
  }

  /** The drain's deadline: a request not written to an open socket yet (held for the turn's end, or queued in one still connecting) fails unsent, closing it. */
  cutUnwritten(err: Error): void {
    if (this.#handler !== null && (this.#held.head !== null || this.#socket.connecting)) this.destroy(err);
  }

  // ---- the answer ----

  onHead(status: number, fields: RawFields): boolean {
    const handler = this.#handler;
    if (handler !== null && handler.onHeaders(status, fields, this.#resume) === false) this.#paused = true;
    return !this.#paused;
  }

  onBody(chunk: Buffer): boolean {
    const handler = this.#handler;
    if (handler === null) return false;
    if (handler.onData(chunk) === false) this.#paused = true;
    return !this.#paused;
  }

  onEnd(keepAlive: boolean, idleHintMs: number): void {
    this.#endKeepAlive = keepAlive;
    this.idleHintMs = idleHintMs;
  }

  #read(bytes: number): boolean {
    if (this.#handler === null || this.#held.head !== null) {
      // Nobody asked, or the request is not written yet: a node talking out of turn is trusted with
      // neither it nor the next. One held on a reused connection goes on another, unsent.
      if (this.#handler === null) this.#socket.destroy();
      else if (!this.#handBackUnsent()) this.destroy(upstreamError('UND_ERR_SOCKET', 'the node sent bytes before the request'));
      return false;
    }
    this.#parse(READ_BUFFER.subarray(0, bytes));
    // Only body bytes are progress (undici's bodyTimeout); the head, trickled or behind 1xx heads
    // one after another, must come whole within the timeout (its headersTimeout).
    if (this.#parser.inBody) this.quietTicks = 0;
    // false pauses the socket (onread's contract); the handler's resume reads on.
    return !(this.#paused && this.#handler !== null);
  }

  /** Feeds the parser; keeps what it did not take on a pause; ends the answer once it ended. */
  #parse(data: Buffer): void {
    let consumed: number;
    try {
      consumed = this.#parser.execute(data);
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    // The handler aborted inside onHeaders or onData: the request failed there, whatever the parser read after.
    if (this.#handler === null) return;
    // Ended in bytes kept through a pause: what the node sent since is read by the turn wait (held-request.ts).
    if (this.#endKeepAlive !== null) return this.#complete(consumed === data.length);
    if (this.#paused && consumed < data.length) this.#rest = Buffer.from(data.subarray(consumed));
  }

  #resumeReading(): void {
    if (!this.#paused || this.#handler === null) return;
    this.#paused = false;
    const rest = this.#rest;
    if (rest !== null) {
      this.#rest = null;
      this.#parse(rest);
      if (this.#paused && this.#handler !== null) return;
    }
    // Closed while paused ('close' left the answer to this resume), and what was kept did not end it.
    if (this.#closeUnheard && this.#handler !== null) return this.destroy(this.#error!);
    // Also when the rest ended the answer: an idle connection reads on, to see the node close it.
    this.#socket.resume();
  }

  /** The answer ended: the handler hears it, then the pool gets the connection back or it closes. */
  #complete(clean: boolean): void {
    const handler = this.#handler!;
    this.#handler = null;
    this.#paused = false;
    this.#rest = null;
    // A request not yet written whole when its answer came (an early answer) leaves the connection
    // unusable: its node may read the rest as the next request (nginx's request_body_sent).
    const reusable = clean && this.#endKeepAlive === true && !this.#upload.pending && !this.#socket.destroyed && this.#socket.writableLength === 0;
    if (!reusable) this.#socket.destroy();
    handler.onComplete();
    if (this.#closeUnheard) this.#closed();
    if (reusable) {
      this.idleTicks = 0;
      this.#held.answered();
      this.#owner.reusable(this);
    }
  }

  #peerEnded(): void {
    this.#peerGone = true;
    if (this.#handBackUnsent()) return;
    // A body delimited by the close ends here; anything else in flight was cut short ('close' follows).
    if (this.#handler !== null && this.#parser.closed()) this.#complete(true);
  }

  #closed(): void {
    this.#error ??= upstreamError('UND_ERR_SOCKET', 'other side closed');
    // Also once the request that put it off ended: bytes kept through a pause may end the answer (an
    // early answer, then a reset seen by the upload's write), which the handler's resume reads first.
    this.#closeUnheard = this.#rest !== null && this.#handler !== null;
    if (this.#closeUnheard) return;
    if (!this.#handBackUnsent() && this.#handler !== null) this.destroy(this.#error);
    this.#owner.closed(this);
  }

  /** The request held on a connection the node closed or reset goes on another, unsent (held-request.ts). */
  #handBackUnsent(): boolean {
    const handler = this.#handler;
    if (handler === null || !this.#held.handable) return false;
    this.#handler = null;
    const request = this.#held.release()!;
    this.#socket.destroy();
    this.#owner.unsent(request, handler);
    return true;
  }
}
