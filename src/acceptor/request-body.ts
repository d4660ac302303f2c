import { Readable } from 'node:stream';
import type { ErrorCode } from '../errors.js';
import type { ClientResponse } from './uws-adapter.js';

export class BodyTooLargeError extends Error {
  readonly code = 'ERR_BODY_TOO_LARGE' satisfies ErrorCode;
}

/**
 * The client's request body as a Readable that undici consumes: uWS chunks are copied (uWS neuters
 * them after the callback), and uWS is paused while undici has not drained the stream, so a large
 * upload streams through with bounded memory. Exceeding `maxBytes` fails the stream.
 */
export function streamRequestBody(client: ClientResponse, maxBytes: number): Readable {
  let received = 0;
  let paused = false;
  const body = new Readable({
    // undici wants more: let uWS deliver again.
    read() {
      if (paused) {
        paused = false;
        client.resume();
      }
    },
  });
  client.onData((chunk, isLast) => {
    if (body.destroyed) return;
    received += chunk.byteLength;
    if (received > maxBytes) {
      body.destroy(new BodyTooLargeError(`request body exceeds ${maxBytes} bytes`));
      return;
    }
    if (chunk.byteLength > 0 && !body.push(Buffer.from(chunk.slice(0)))) {
      paused = true;
      client.pause();
    }
    if (isLast) body.push(null);
  });
  return body;
}

/**
 * A body with a declared Content-Length small enough to hold: read whole, then handed to undici as
 * one Buffer, which it writes together with the head. A Readable per request costs more CPU than
 * the copy saves memory at this size (as nginx's client_body_buffer_size decides too). uWS ends
 * the body at the declared length, so `onComplete` gets exactly `contentLength` bytes; it is not
 * called if the client goes away first.
 */
export function readWholeBody(client: ClientResponse, contentLength: number, onComplete: (body: Buffer) => void): void {
  const body = Buffer.allocUnsafe(contentLength);
  let received = 0;
  client.onData((chunk, isLast) => {
    const bytes = new Uint8Array(chunk);
    // Never past the buffer, whatever uWS delivers.
    body.set(bytes.subarray(0, contentLength - received), received);
    received = Math.min(contentLength, received + bytes.byteLength);
    if (isLast) onComplete(received === contentLength ? body : body.subarray(0, received));
  });
}
