import { upstreamError, type UpstreamRequest } from '../dispatcher.js';

/** How the request's body goes on the wire, decided with its head. */
export const enum BodyFraming {
  None,
  Length,
  Chunked,
}

/** RFC 9110 token: header names and methods. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A field value holds no control character but HTAB (a CR or LF would split the head). */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** A request target: visible characters only (no space, CR or LF to end the request line early). */
const INVALID_TARGET = /[^\x21-\x7e\x80-\xff]/;
/** Methods whose requests carry a body by their meaning: without one they say `content-length: 0`, as undici does. */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export class RequestHeadError extends Error {
  readonly code = 'UND_ERR_INVALID_ARG';
}

/**
 * The request's head as one latin1 string (how undici writes it too), with the framing of its
 * body: a declared Content-Length as it is, a Buffer's own length when none is declared, chunked
 * for a stream without one. Every name, value, the method and the target are checked, so nothing a
 * client sent can end a line early and smuggle a second request to the node.
 */
export function requestHead(request: UpstreamRequest): [head: string, framing: BodyFraming, declaredLength: number] {
  const { method, path, headers, body } = request;
  if (!TOKEN.test(method)) throw new RequestHeadError(`invalid method ${JSON.stringify(method)}`);
  if (path.length === 0 || INVALID_TARGET.test(path)) throw new RequestHeadError('invalid request target');
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let declared = -1;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!TOKEN.test(name) || INVALID_VALUE.test(value)) throw new RequestHeadError(`invalid header ${JSON.stringify(name)}`);
    if (name === 'content-length') declared = Number(value);
    head += `${name}: ${value}\r\n`;
  }
  if (body === null) {
    // A length with no body would leave the node waiting for bytes that never come.
    if (declared > 0) throw upstreamError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'a Content-Length without a body');
    if (declared < 0 && PAYLOAD_METHODS.has(method)) head += 'content-length: 0\r\n';
    return [`${head}\r\n`, BodyFraming.None, declared];
  }
  if (Buffer.isBuffer(body)) {
    if (declared < 0) head += `content-length: ${body.length}\r\n`;
    else if (declared !== body.length) throw upstreamError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'the body is not as long as its Content-Length');
    return [`${head}\r\n`, BodyFraming.Length, body.length];
  }
  if (declared >= 0) return [`${head}\r\n`, BodyFraming.Length, declared];
  return [`${head}transfer-encoding: chunked\r\n\r\n`, BodyFraming.Chunked, -1];
}
