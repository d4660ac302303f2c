import { Buffer } from 'node:buffer';
import { upstreamError, type UpstreamRequest } from '../dispatcher.js';
import { TARGET, TEXT, TOKEN } from './field-chars.js';
import { FreshNameSet } from '../../name-set.js';
import { writeBuffer } from './write-slab.js';
import { decimalValue, EXACT_DIGITS } from '../../decimal.js';

/** How the request's body goes on the wire, decided with its head. */
export const enum BodyFraming {
  None,
  Length,
  Chunked,
}

/** The request's head as bytes, and how its body follows. */
export interface RequestHead {
  /** The head, then `room` bytes (uninitialised) for a body joined to it. */
  readonly bytes: Buffer;
  readonly framing: BodyFraming;
  /** The body's length as the head declares it; -1 when it declares none (chunked, or no body). */
  readonly declared: number;
}

/**
 * Heads (with any body joined to them) under Node's pool's limit are slices of its 8 KiB pool, as
 * any small Buffer is; larger ones come from the 128 KiB write slabs. With a slab for every ~400
 * heads of ~300 bytes, get-1k's RSS climbed 158 → 226 MiB over five rounds (2 threads), against
 * 146 → 162 from the pool, at the same CPU.
 */
const POOLED_BELOW = Buffer.poolSize >>> 1;

/** Methods whose requests carry a body by their meaning: without one they say `content-length: 0`, as undici does. */
const PAYLOAD_METHODS = new FreshNameSet(['POST', 'PUT', 'PATCH']);

// " HTTP/1.1" CRLF after the target, ": " and CRLF per field line, the empty line's CRLF.
const REQUEST_LINE_END = ' HTTP/1.1\r\n';
const FIELD_LINE_OVERHEAD = 4;
const CRLF = 2;

export class RequestHeadError extends Error {
  readonly code = 'UND_ERR_INVALID_ARG';
}

/** put's answer at a character past ASCII: the head is then written again, as UTF-8 (writeHead). */
const NOT_ASCII = -2;

/**
 * Writes `text` at `at`, a byte a character, while every character is ASCII and one `allowed` lets
 * through; returns the offset after it, -1 at the first character refused, NOT_ASCII at the first
 * past ASCII.
 */
function put(out: Buffer, at: number, text: string, allowed: Uint8Array): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return NOT_ASCII;
    if (allowed[code] === 0) return -1;
    out[at++] = code;
  }
  return at;
}

/**
 * Writes `text` as UTF-8, which gives the client's own bytes back: uWS read them as UTF-8. Its ASCII
 * characters are checked against `allowed`; U+FFFD is refused (-1), for uWS puts it where the bytes
 * were not UTF-8, and what they were is lost: forwarding it would change them.
 */
function putUtf8(out: Buffer, at: number, text: string, allowed: Uint8Array): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80 ? allowed[code] === 0 : code === 0xfffd) return -1;
  }
  return at + out.write(text, at, 'utf8');
}

/** Writes text the gateway made itself (ASCII, nothing to check); returns the offset after it. */
function putKnown(out: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
  return at;
}

/**
 * The request's head, written a byte a character into a buffer with `room` bytes after it, with the
 * framing of its body: a declared Content-Length as it is, a Buffer's own length when none is
 * declared, chunked for a stream without one. Every character of the method, the target, each
 * name and value is checked as it is written, so nothing a client sent can end a line early and
 * smuggle a second request to the node. A target or value past ASCII is written as UTF-8: the
 * client's own bytes, which uWS read as UTF-8. Written into the buffer that goes to the socket:
 * joined into a string, the head was flattened and copied again on its way there.
 */
export function requestHead(request: UpstreamRequest, room: number): RequestHead {
  const { method, path, headers, body } = request;
  let declared = -1;
  let size = method.length + 1 + path.length + REQUEST_LINE_END.length + CRLF;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    size += name.length + value.length + FIELD_LINE_OVERHEAD;
    if (name === 'content-length') {
      declared = decimalValue(value, EXACT_DIGITS);
      if (declared < 0) throw new RequestHeadError('invalid header "content-length"');
    }
  }
  let framing: BodyFraming;
  // The field line the gateway adds to say how the body is framed, if any.
  let framingLine = '';
  if (body === null) {
    // A length with no body would leave the node waiting for bytes that never come.
    if (declared > 0) throw upstreamError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'a Content-Length without a body');
    if (declared < 0 && PAYLOAD_METHODS.has(method)) framingLine = 'content-length: 0\r\n';
    framing = BodyFraming.None;
  } else if (Buffer.isBuffer(body)) {
    if (declared < 0) framingLine = `content-length: ${body.length}\r\n`;
    else if (declared !== body.length) throw upstreamError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'the body is not as long as its Content-Length');
    declared = body.length;
    framing = BodyFraming.Length;
  } else if (declared >= 0) {
    framing = BodyFraming.Length;
  } else {
    framingLine = 'transfer-encoding: chunked\r\n';
    framing = BodyFraming.Chunked;
  }

  const bytes =
    writeHead(request, size + framingLine.length, framingLine, room, false) ??
    writeHead(request, utf8Size(request) + framingLine.length, framingLine, room, true)!;
  return { bytes, framing, declared };
}

/** The head's size with its target and values as UTF-8 (methods and names are ASCII, or refused). */
function utf8Size({ method, path, headers }: UpstreamRequest): number {
  let size = method.length + 1 + Buffer.byteLength(path, 'utf8') + REQUEST_LINE_END.length + CRLF;
  for (let i = 0; i < headers.length; i += 2) size += headers[i]!.length + Buffer.byteLength(headers[i + 1]!, 'utf8') + FIELD_LINE_OVERHEAD;
  return size;
}

/**
 * The head's `size` bytes and `room` after them, every character checked as it is written. A byte
 * a character (`utf8` false) until one past ASCII: then null, and the caller writes it again with
 * `utf8` and the sizes for it.
 */
function writeHead(request: UpstreamRequest, size: number, framingLine: string, room: number, utf8: boolean): Buffer | null {
  const { method, path, headers } = request;
  const total = size + room;
  const bytes = total < POOLED_BELOW ? Buffer.allocUnsafe(total) : writeBuffer(total);
  let at = method.length === 0 ? -1 : put(bytes, 0, method, TOKEN);
  if (at < 0) throw new RequestHeadError(`invalid method ${JSON.stringify(method)}`);
  bytes[at++] = 0x20;
  at = path.length === 0 ? -1 : utf8 ? putUtf8(bytes, at, path, TARGET) : put(bytes, at, path, TARGET);
  if (at === NOT_ASCII) return null;
  if (at < 0) throw new RequestHeadError('invalid request target');
  at = putKnown(bytes, at, REQUEST_LINE_END);
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    const nameEnd = name.length === 0 ? -1 : put(bytes, at, name, TOKEN);
    if (nameEnd < 0) throw new RequestHeadError(`invalid header ${JSON.stringify(name)}`);
    bytes[nameEnd] = 0x3a;
    bytes[nameEnd + 1] = 0x20;
    at = utf8 ? putUtf8(bytes, nameEnd + 2, value, TEXT) : put(bytes, nameEnd + 2, value, TEXT);
    if (at === NOT_ASCII) return null;
    if (at < 0) throw new RequestHeadError(`invalid header ${JSON.stringify(name)}`);
    bytes[at++] = 0x0d;
    bytes[at++] = 0x0a;
  }
  at = putKnown(bytes, at, framingLine);
  bytes[at++] = 0x0d;
  bytes[at] = 0x0a;
  return bytes;
}
