import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { upstreamError } from '../dispatcher.js';

export interface BodyWriteEvents {
  /** A chunk went to the socket: the request is moving. */
  progress(): void;
  /** The whole body was written. */
  sent(): void;
  /** The body failed (its own error, a wrong length, or it was destroyed before its end). */
  failed(err: Error): void;
}

/** Why a body destroyed before its end failed: its own error, or that it closed early. */
export function bodyFailure(body: Readable): Error {
  return body.errored ?? upstreamError('UND_ERR_SOCKET', 'the request body was closed before its end');
}

function lengthMismatch(): Error {
  return upstreamError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'the request body is not as long as its Content-Length');
}

/**
 * A held body up to this size goes out in one buffer with its head: the copy costs less than a
 * corked two-part write (Writable's buffering, then a writev). Past it, the copy costs more.
 */
const JOINED_BODY_BYTES = 64 * 1024;

/** The room a head's buffer leaves after it for `body` (requestHead's `room`): all of it when they go out joined. */
export function joinedRoom(body: Buffer | Readable | null): number {
  return Buffer.isBuffer(body) && body.length <= JOINED_BODY_BYTES ? body.length : 0;
}

/**
 * Writes the head (its buffer made with joinedRoom(body) bytes after it) and a body held whole (a
 * Buffer, its length already checked against the head), if any.
 */
export function writeWhole(socket: Socket, head: Buffer, body: Buffer | null): void {
  if (body !== null && body.length <= JOINED_BODY_BYTES) {
    head.set(body, head.length - body.length);
    socket.write(head);
  } else if (body === null) {
    socket.write(head);
  } else {
    socket.cork();
    socket.write(head);
    socket.write(body);
    socket.uncork();
  }
}

/**
 * Streams a request body (not destroyed yet: bodyFailure) to the node after its head: as it is
 * under a declared length (which it must match, not a byte more or less), else in chunks. The body pauses while the socket's buffer
 * is full; the returned function resumes it on the socket's 'drain'.
 */
export function streamBody(socket: Socket, body: Readable, chunked: boolean, declared: number, events: BodyWriteEvents): () => void {
  let written = 0;
  let over = false;
  const stop = (err: Error | null): void => {
    if (over) return;
    over = true;
    body.off('data', onData).off('end', onEnd).off('error', stop).off('close', onClose);
    if (err === null) events.sent();
    else events.failed(err);
  };
  const onData = (chunk: Buffer): void => {
    // An empty chunk would read as the chunked body's last.
    if (chunk.length === 0) return;
    written += chunk.length;
    if (declared >= 0 && written > declared) return stop(lengthMismatch());
    events.progress();
    let more: boolean;
    if (chunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      more = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else more = socket.write(chunk);
    if (!more) body.pause();
  };
  const onEnd = (): void => {
    if (declared >= 0 && written !== declared) return stop(lengthMismatch());
    if (chunked) socket.write('0\r\n\r\n', 'latin1');
    stop(null);
  };
  const onClose = (): void => stop(bodyFailure(body));
  body.on('data', onData).on('end', onEnd).on('error', stop).on('close', onClose);
  return () => {
    if (!over) body.resume();
  };
}
