import { connect } from 'node:net';

export interface RawResult {
  /** Everything the gateway sent, latin1. */
  text: string;
  /** The gateway closed the connection (rather than our timeout ending it). */
  closedByPeer: boolean;
}

/**
 * Writes raw bytes to the gateway and collects what comes back until it closes, `until` holds of
 * what came (a kept-alive connection's answers are all there), or `waitMs` passes.
 */
export function rawExchange(port: number, payload: string | Buffer, waitMs = 1000, until?: (text: string) => boolean): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closedByPeer = true;
    const stop = (): void => {
      closedByPeer = false;
      socket.destroy();
    };
    const timer = setTimeout(stop, waitMs);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (until?.(text) === true) stop();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByPeer });
    });
    socket.write(payload);
  });
}

/** Status codes of every response in a raw byte stream, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}

/** JSON bodies (one per response) found in a raw byte stream. */
export function jsonBodies(text: string): Record<string, unknown>[] {
  return [...text.matchAll(/\{[^{}]*\}/g)].map((m) => JSON.parse(m[0]) as Record<string, unknown>);
}

/** `rawExchange`'s `until`: `count` whole answers have come (bodies by Content-Length or chunked). */
export function answers(count: number): (text: string) => boolean {
  return (text) => {
    let at = 0;
    for (let seen = 0; seen < count; seen++) {
      const headEnd = text.indexOf('\r\n\r\n', at);
      if (headEnd < 0) return false;
      const head = text.slice(at, headEnd).toLowerCase();
      const length = /\r\ncontent-length: *(\d+)/.exec(head);
      if (length !== null) at = headEnd + 4 + Number(length[1]);
      else if (/\r\ntransfer-encoding: *chunked/.test(head)) {
        const last = text.indexOf('\r\n0\r\n\r\n', headEnd);
        if (last < 0) return false;
        at = last + 7;
      } else at = headEnd + 4;
      if (at > text.length) return false;
    }
    return true;
  };
}

/**
 * Sends a POST head declaring `length` (and `headers`, lines with their CRLF) and the whole body
 * right behind it, as clients that do not wait for 100 Continue do; resolves with the statuses
 * that came back before the gateway closed the connection, and the socket's error if it had one
 * (a reset, a write into a closed connection).
 */
export function uploadAtOnce(port: number, path: string, length: number, headers = ''): Promise<{ statuses: number[]; error: string | null }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let error: string | null = null;
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('error', (err: Error & { code?: string }) => (error ??= err.code ?? err.message));
    socket.on('close', () => resolve({ statuses: statuses(text), error }));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: ${length}\r\n${headers}\r\n`);
    socket.write(Buffer.alloc(length, 0x61));
    // A bound, not a wait: the gateway closes the connection long before.
    setTimeout(() => socket.destroy(), 8_000).unref();
  });
}
