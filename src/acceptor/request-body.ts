import { Readable } from 'node:stream';
import type { HttpResponse } from 'uWebSockets.js';

export class BodyTooLargeError extends Error {
  readonly code = 'ERR_BODY_TOO_LARGE';
}

/**
 * The client's request body as a Readable that undici consumes: uWS chunks are copied (uWS neuters
 * them after the callback), and uWS is paused while undici has not drained the stream, so a large
 * upload streams through with bounded memory. Exceeding `maxBytes` fails the stream.
 */
export function streamRequestBody(res: HttpResponse, maxBytes: number): Readable {
  let received = 0;
  let paused = false;
  const body = new Readable({
    // undici wants more: let uWS deliver again.
    read() {
      if (paused) {
        paused = false;
        res.resume();
      }
    },
  });
  res.onData((chunk, isLast) => {
    if (body.destroyed) return;
    received += chunk.byteLength;
    if (received > maxBytes) {
      body.destroy(new BodyTooLargeError(`request body exceeds ${maxBytes} bytes`));
      return;
    }
    if (chunk.byteLength > 0 && !body.push(Buffer.from(chunk.slice(0)))) {
      paused = true;
      res.pause();
    }
    if (isLast) body.push(null);
  });
  return body;
}
