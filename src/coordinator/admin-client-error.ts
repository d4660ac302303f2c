import { Buffer } from 'node:buffer';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERRORS, type AnsweredCode } from '../errors.js';

/** The parser's errors that are about how a body is framed, not about the head's syntax. */
const FRAMING = new Set(['HPE_INVALID_CONTENT_LENGTH', 'HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING', 'HPE_INVALID_CHUNK_SIZE', 'HPE_CHUNK_EXTENSIONS_OVERFLOW']);

function codeOf(err: NodeJS.ErrnoException): AnsweredCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'ERR_HEADERS_TOO_LARGE';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'ERR_REQUEST_TIMEOUT';
  return FRAMING.has(err.code ?? '') ? 'ERR_BAD_FRAMING' : 'ERR_MALFORMED_REQUEST';
}

/** How long a client has to read the answer and close before the socket is destroyed: node:http keeps no timer on it any more. */
const LINGER_MS = 1_000;

/** The answer node:http is writing on a socket, or will write first (its own field: no public way says). */
type Answering = { headersSent: boolean; req: { complete: boolean }; once(event: 'finish', listener: () => void): unknown } | null | undefined;

/** Sockets whose refused request is answered once the answers owed before it are sent: the parser's later errors on them are its first one's. */
const waiting = new WeakSet<Duplex>();

/**
 * The admin server's answer to a request node:http's parser refused (a malformed head, one over
 * its 16 KiB, bad framing) or that did not come in time (headMs, requestMs): JSON with its code,
 * as every admin answer, where node:http's own has no body. A request pipelined behind others
 * read whole is answered after their answers (a push among them may have been applied: its
 * sender is told so), as nginx does; one whose own answer has begun (the error is in its body:
 * the rest of that answer would follow ours), or any socket that cannot take an answer, is
 * destroyed.
 */
export function answerClientError(err: NodeJS.ErrnoException & { reason?: string }, socket: Duplex): void {
  if (waiting.has(socket)) return;
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const answering = (socket as { _httpMessage?: Answering })._httpMessage;
  if (answering != null && answering.req.complete) {
    // Owed to an earlier request: ours goes once it is sent. node:http's own 'finish' listener
    // runs first, and hands the socket to the next answer owed, if any: this one is looked at again.
    waiting.add(socket);
    answering.once('finish', () => {
      waiting.delete(socket);
      answerClientError(err, socket);
    });
    return;
  }
  if (answering?.headersSent === true) {
    socket.destroy();
    return;
  }
  const code = codeOf(err);
  const status = ERRORS[code].status;
  // The parser's reason is its own text ("Invalid header token"), never the request's bytes.
  const reason = code === 'ERR_MALFORMED_REQUEST' && err.reason !== undefined ? `: ${err.reason}` : '';
  const detail = code === 'ERR_HEADERS_TOO_LARGE' ? `: the admin server takes ${maxHeaderSize} bytes of head` : reason;
  const body = JSON.stringify({ error: `${ERRORS[code].message}${detail}`, code });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    'content-type: application/json',
    'x-content-type-options: nosniff',
    'cache-control: no-store',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once('close', () => clearTimeout(linger));
}
