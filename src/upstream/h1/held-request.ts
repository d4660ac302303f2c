import { Buffer } from 'node:buffer';
import type { Readable } from 'node:stream';
import type { UpstreamRequest } from '../dispatcher.js';
import type { Socket } from 'node:net';
import { requestHead, type RequestHead } from './request-head.js';
import { bodyFailure, joinedRoom, writeWhole } from './request-body-writer.js';
import type { Upload } from './upload.js';
import { currentTurn, writingTurn } from './turn-writes.js';

/**
 * A connection's request held until the turn's end (turn-writes.ts), and when it may go out. A
 * node that closes a connection as it answers, without saying `Connection: close`, does so in a
 * read after its answer, once the pool has given the connection to the next request: so a request
 * given a connection in the turn its last answer ended waits one turn more, for the socket to be
 * read again (undici waits a loop turn before reusing a socket likewise), and one held on a
 * connection the node closed or reset meanwhile goes on another connection, unsent. A streamed
 * upload is held likewise: its body is not read before its head goes out, and one that failed
 * meanwhile never goes out.
 */
export class HeldRequest {
  /** Its head (null: none held) and body, and the request, to hand on unsent. */
  head: RequestHead | null = null;
  body: Buffer | Readable | null = null;
  #request: UpstreamRequest | null = null;
  /** An answer ended on the connection and it was given back for the next request. */
  #reused = false;
  /** The turn in which the last answer ended; -1: none, or waited out. */
  #endedTurn = -1;

  /** Holds the request, its head made now; returns why not (a RequestHeadError when a value could split it), or null. */
  hold(request: UpstreamRequest): Error | null {
    try {
      this.head = requestHead(request, joinedRoom(request.body));
    } catch (err) {
      return err as Error;
    }
    this.body = request.body;
    this.#request = request;
    return null;
  }

  /**
   * Writes what is held and lets go of it: a body in hand with its head, a streamed one as the
   * client sends it. A streamed body that failed while held (too large, its client gone) is
   * returned unwritten: the node never hears of it.
   */
  write(socket: Socket, upload: Upload): Error | null {
    const { head, body } = this;
    this.release();
    if (head === null) return null;
    if (body === null || Buffer.isBuffer(body)) writeWhole(socket, head.bytes, body);
    else if (body.destroyed) return bodyFailure(body);
    else upload.start(head, body);
    return null;
  }

  /** The connection's answer ended cleanly, and the connection goes back to the pool. */
  answered(): void {
    this.#reused = true;
    this.#endedTurn = currentTurn();
  }

  /** At the turn's end: the request held was given the connection in the turn its last answer ended, and waits one more. */
  waitsATurn(): boolean {
    if (this.head === null || this.#endedTurn !== writingTurn()) return false;
    this.#endedTurn = -1;
    return true;
  }

  /**
   * A request is held on a connection that carried an answer before: if the node closed it
   * meanwhile, it may go on another, as nothing of it went out. A connection that never carried
   * an answer fails its request (a node that closes every new connection is failed once).
   */
  get handable(): boolean {
    return this.head !== null && this.#request !== null && this.#reused;
  }

  /** Lets go of what is held; returns the request. */
  release(): UpstreamRequest | null {
    const request = this.#request;
    this.head = null;
    this.body = null;
    this.#request = null;
    return request;
  }
}
