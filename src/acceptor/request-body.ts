import { Buffer } from 'node:buffer';
import { Readable } from 'node:stream';
import type { ErrorCode } from '../errors.js';
import { SlabCarver } from '../slab-carver.js';
import type { ClientResponse } from './uws-adapter.js';

export class BodyTooLargeError extends Error {
  readonly code = 'ERR_BODY_TOO_LARGE' satisfies ErrorCode;
}

/** A streamed request body, and when the client has sent all of it. */
export interface RequestBody {
  readonly stream: Readable;
  /** Bytes handed to the node's pool so far: not those past the limit, nor those dropped after an early answer. */
  readonly forwardedBytes: number;
  /** Calls `callback` once the client's last body byte has arrived (at once if it has); callbacks run in the order given. */
  whenSent(callback: () => void): void;
  /**
   * The answer ends before the upload did (a node that answered early): what the client still
   * sends is read and dropped, so that it gets to read the answer (a close with unread bytes is a
   * reset) and its connection serves its next request. Called before the answer's last bytes, as
   * uWS takes no resume() once a response is complete; the stream is left to the request's end
   * (destroyed now, it would fail an undici call whose answer is still being read).
   */
  dropRest(): void;
}

/**
 * The client's request body as a Readable that the node's pool consumes: uWS chunks are copied
 * (uWS neuters them after the callback), and uWS is paused while the pool has not drained the
 * stream, so a large upload streams through with bounded memory. Exceeding `maxBytes` fails the stream; what the
 * client still sends is then read and dropped, so that the answer can wait for its end (whenSent).
 */
export function streamRequestBody(client: ClientResponse, maxBytes: number): RequestBody {
  let received = 0;
  let forwarded = 0;
  let paused = false;
  let sent = false;
  let dropping = false;
  let onSent: (() => void) | null = null;
  const stream = new Readable({
    // The pool wants more: let uWS deliver again.
    read() {
      if (paused) {
        paused = false;
        client.resume();
      }
    },
  });
  client.onData((chunk, isLast) => {
    if (!stream.destroyed && !dropping) {
      received += chunk.byteLength;
      if (received > maxBytes) {
        stream.destroy(new BodyTooLargeError(`request body exceeds ${maxBytes} bytes`));
        // Read on, dropping it: a close with unread bytes becomes a reset that loses the answer.
        if (paused) {
          paused = false;
          client.resume();
        }
      } else {
        forwarded += chunk.byteLength;
        if (chunk.byteLength > 0 && !stream.push(Buffer.from(chunk.slice(0)))) {
          paused = true;
          client.pause();
        }
        if (isLast) stream.push(null);
      }
    }
    if (isLast) {
      sent = true;
      // Nothing more of this body comes, and a stream that ended never asks for more (read()): a
      // pause kept past here would leave the connection's next request unread for good.
      if (paused) {
        paused = false;
        client.resume();
      }
      onSent?.();
      onSent = null;
    }
  });
  return {
    stream,
    get forwardedBytes() {
      return forwarded;
    },
    whenSent(callback) {
      if (sent) return callback();
      const before = onSent;
      onSent =
        before === null
          ? callback
          : () => {
              before();
              callback();
            };
    },
    dropRest() {
      if (sent) return;
      dropping = true;
      if (paused) {
        paused = false;
        client.resume();
      }
    },
  };
}

/** How long an answer to an over-limit body waits for the client to finish sending it. */
const LINGER_MS = 2_000;

/**
 * Calls `answer` once the client has sent the rest of `body` (read and dropped) or LINGER_MS
 * passed: closing with its bytes unread would reset the connection, and a reset makes the
 * client's kernel drop the answer it has not read yet (nginx's lingering close).
 */
export function whenSentOrLingered(body: RequestBody, answer: () => void): void {
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    answer();
  };
  const timer = setTimeout(once, LINGER_MS);
  // Out of uWS's data callback: a close made inside it waits, and the parser would go on.
  body.whenSent(() => setImmediate(once));
}

/**
 * How long the body of a request refused before it was read may pause before the answer goes out
 * anyway: a client that sent only its head and waits for an answer waits no longer.
 */
const BODY_QUIET_MS = 100;

/**
 * Reads and drops the body of a request refused before its body was read, then calls `answer`:
 * once the body ended, BODY_QUIET_MS passed without a byte of it, or LINGER_MS in all. The client
 * usually sends its body right behind its head, and closing with those bytes unread would reset
 * the connection, the reset making the client's kernel drop the answer (whenSentOrLingered).
 * `pending`: a body already streamed but not read (held for a Redis verdict), which drops its rest.
 */
export function whenBodyDropped(client: ClientResponse, pending: RequestBody | null, answer: () => void): void {
  if (pending !== null) {
    pending.dropRest();
    return whenSentOrLingered(pending, answer);
  }
  let done = false;
  const once = (): void => {
    if (done) return;
    done = true;
    clearTimeout(quiet);
    clearTimeout(deadline);
    answer();
  };
  const quiet = setTimeout(once, BODY_QUIET_MS);
  const deadline = setTimeout(once, LINGER_MS);
  client.onData((_chunk, isLast) => {
    if (done) return;
    // Out of uWS's data callback, as whenSentOrLingered.
    if (isLast) setImmediate(once);
    else quiet.refresh();
  });
}

/**
 * Held bodies from Node's pool's limit (Buffer.allocUnsafe carves those under 4 KiB from its 8 KiB
 * pool) up to 8 KiB are carved from 16 KiB slabs the same way: a body kept while a slow node
 * answers keeps its slab, at most 4 times its own size.
 */
const POOLED_BELOW = Buffer.poolSize >>> 1;
const SLAB_BODY_MAX = 8 * 1024;
const bodySlabs = new SlabCarver(16 * 1024);

function bodyBuffer(size: number): Buffer {
  return size >= POOLED_BELOW && size <= SLAB_BODY_MAX ? bodySlabs.take(size) : Buffer.allocUnsafe(size);
}

/**
 * A body with a declared Content-Length small enough to hold: read whole, then handed to the pool as
 * one Buffer, which it writes together with the head. A Readable per request costs more CPU than
 * the copy saves memory at this size (as nginx's client_body_buffer_size decides too). uWS ends
 * the body at the declared length, so `onComplete` gets exactly `contentLength` bytes; it is not
 * called if the client goes away first.
 */
export function readWholeBody(client: ClientResponse, contentLength: number, onComplete: (body: Buffer) => void): void {
  const body = bodyBuffer(contentLength);
  let received = 0;
  client.onData((chunk, isLast) => {
    // Never past the buffer, whatever uWS delivers.
    const taken = Math.min(chunk.byteLength, contentLength - received);
    body.set(new Uint8Array(chunk, 0, taken), received);
    received += taken;
    if (isLast) onComplete(received === contentLength ? body : body.subarray(0, received));
  });
}
