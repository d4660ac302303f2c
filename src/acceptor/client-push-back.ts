import { Buffer } from 'node:buffer';
import type { HttpResponse } from 'uWebSockets.js';
import { DuplexStall } from './duplex-stall.js';

/** What a push-back needs of its response (uws-adapter.ts), read when it happens. */
export interface PushedResponse {
  /** The client went away. */
  aborted(): boolean;
  /** uWS considers the response complete, or the connection closed. */
  responded(): boolean;
  /** The answer's declared length, or -1 (chunked, close-delimited). */
  totalSize(): number;
  /** A held chunk's tryEnd completed the response. */
  completed(): void;
  /** The client took what was held: the owner may write on. */
  writable(): void;
}

/**
 * What happens to a response once its client pushed back, or its upload was paused (most
 * requests have neither, and never make one): the part of a declared-length chunk tryEnd did not
 * take (a copy: the chunk may be a view of a reused read buffer) and where in the body it starts,
 * the wait for uWS's writable event, and the watch on a connection stalled both ways
 * (duplex-stall.ts), which tries what is held every poll and closes the connection when nothing
 * moves for too long.
 */
export class ClientPushBack {
  readonly #res: HttpResponse;
  readonly #response: PushedResponse;
  #held: Buffer | null = null;
  #heldOffset = 0;
  /** The write offset the last try of a held chunk found: one further on is a client reading, however slowly. */
  #triedOffset = 0;
  /** A write pushed back and the client has not taken it yet. */
  #awaiting = false;
  /** The request's body is paused (uws-adapter.ts pause()). */
  #uploadPaused = false;
  /**
   * uWS polls a socket for reads again after any write to it that it could not finish, whatever
   * pause() said. The flush at the end of uWS's data callback is such a write while the answer
   * waits for its client, so a pause made in the callback was undone at once, read after read: a
   * paused upload whose answer waits for its client (an echoing node, a client that stopped
   * reading) was read on into memory, the whole upload (up to GATEWAY_MAX_BODY_BYTES) for every
   * such client. Each pause is made again once the turn's callbacks are over, and after the cork
   * of a retried held chunk. A write that fails elsewhere lets the answer's writable events (and
   * one read, which pauses again) through, as the answer needs them to move.
   */
  readonly #pauseAgain = (): void => {
    if (this.#uploadPaused && !this.#response.responded()) this.#res.pause();
  };
  readonly #onWritable = (offset: number): boolean => this.#drained(offset);
  readonly #stall: DuplexStall;

  constructor(res: HttpResponse, response: PushedResponse) {
    this.#res = res;
    this.#response = response;
    this.#stall = new DuplexStall(
      // As uWS closes an idle connection: its onAborted tells the owner the client left.
      () => response.responded() || res.close(),
      () => this.#retryHeld(),
    );
  }

  /** A chunk is waiting for the socket to drain. */
  get holding(): boolean {
    return this.#held !== null;
  }

  /** tryEnd took the body up to `taken` of a chunk that started at body offset `offset`: the rest waits. */
  hold(chunk: Buffer, offset: number, taken: number): void {
    this.#held = Buffer.from(chunk.subarray(taken - offset));
    this.#heldOffset = taken;
  }

  /** The last write was pushed back: the owner hears `writable` once the client took it. */
  awaitWritable(): void {
    this.#awaiting = true;
    this.#res.onWritable(this.#onWritable);
    this.#stall.awaitingWritable(true);
  }

  uploadPaused(paused: boolean): void {
    this.#uploadPaused = paused;
    this.#stall.uploadPaused(paused);
    if (paused) setImmediate(this.#pauseAgain);
  }

  /** The response is over (the client left): nothing waits to be written any more. */
  stop(): void {
    this.#held = null;
    this.#stall.stop();
  }

  /** No writable event comes while the upload is paused: try the rest of a held chunk now. */
  #retryHeld(): void {
    if (this.#held === null || this.#response.aborted()) return;
    this.#res.cork(() => this.#drained(this.#res.getWriteOffset()));
    // The cork's end writes what it held, and a write that failed there polls for reads again.
    this.#pauseAgain();
  }

  #drained(offset: number): boolean {
    // A poll got it through already: this late event has nothing to say.
    if (this.#response.aborted() || !this.#awaiting) return true;
    const held = this.#held;
    if (held !== null) {
      if (offset > this.#triedOffset) this.#stall.progressed();
      this.#triedOffset = offset;
      const [ok, done] = this.#res.tryEnd(held.subarray(offset - this.#heldOffset), this.#response.totalSize());
      if (done) this.#response.completed();
      else if (!ok) return false;
      this.#held = null;
    }
    this.#awaiting = false;
    this.#stall.awaitingWritable(false);
    this.#response.writable();
    return true;
  }
}
