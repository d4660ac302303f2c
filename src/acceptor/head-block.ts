import { Buffer } from 'node:buffer';
import type { HeaderField } from './client-contract.js';
import type { RawFields } from '../upstream/raw-fields.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/**
 * A response's status line and headers as the one block uWS's writeStatus writes: uWS puts
 * "HTTP/1.1 " before what it gets and CRLF after it, and each writeHeader writes "name: value" and
 * CRLF, byte for byte, so the block "200 OK\r\nname: value\r\n…\r\nlast: value" is the same head in
 * one call. Each call into uWS converts its arguments to native strings, with a backing store
 * looked up for every Buffer: a get-1k answer (2 forwarded headers, X-Request-Id and 3 RateLimit
 * ones) took 7 calls, and the lookups were 1.6% of its profile.
 *
 * uWS copies the block before writeStatus returns (into its cork buffer, or what it keeps of a
 * write the socket did not take), so one scratch buffer per thread serves every head. The bytes
 * are those the separate calls wrote: no header is checked less.
 */
let scratch = Buffer.allocUnsafeSlow(4096);
/** Its memory, for the view returned: Buffer#subarray would read `.buffer`, a call into C++, every time. */
let scratchBytes = scratch.buffer;
/**
 * The last view returned, given again while heads come out at its length (a node's answers, as a
 * rule, all have one): no Buffer a response. Each view is of the same scratch memory, valid until
 * the next call either way.
 */
let view = Buffer.from(scratchBytes, 0, 0);

const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;

/** Writes `text` at `at` (UTF-8, as uWS writes a string it is given); returns the offset after it. */
function writeText(text: string, at: number): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Not ASCII: let Buffer encode the whole string.
    if (code >= 0x80) return at - i + scratch.write(text, at - i, 'utf8');
    scratch[at++] = code;
  }
  return at;
}

function writeField(field: HeaderField, at: number): number {
  if (typeof field === 'string') return writeText(field, at);
  scratch.set(field, at);
  return at + field.length;
}

/** Room for `field`: its bytes, or the most a string can take in UTF-8. */
const room = (field: HeaderField): number => (typeof field === 'string' ? 3 * field.length : field.length);

/** "\r\nname: value", written at `at`; returns the offset after it. */
function writeHeaderLine(name: HeaderField, value: HeaderField, at: number): number {
  scratch[at] = CR;
  scratch[at + 1] = LF;
  at = writeField(name, at + 2);
  scratch[at] = COLON;
  scratch[at + 1] = SPACE;
  return writeField(value, at + 2);
}

/** Each of `fields` as "\r\nname: value" at `at`, byte by byte (a view per field to copy from would be an object each); returns the offset after them. */
function writeFields({ bytes, spans }: RawFields, at: number): number {
  for (let s = 0; s < spans.length; s += 4) {
    scratch[at] = CR;
    scratch[at + 1] = LF;
    at += 2;
    for (let i = spans[s]!, end = spans[s + 1]!; i < end; i++) scratch[at++] = bytes[i]!;
    scratch[at] = COLON;
    scratch[at + 1] = SPACE;
    at += 2;
    for (let i = spans[s + 2]!, end = spans[s + 3]!; i < end; i++) scratch[at++] = bytes[i]!;
  }
  return at;
}

function fieldsRoom({ spans }: RawFields): number {
  let size = 0;
  for (let s = 0; s < spans.length; s += 4) size += 4 + spans[s + 1]! - spans[s]! + spans[s + 3]! - spans[s + 2]!;
  return size;
}

function headersRoom(headers: readonly HeaderField[]): number {
  let size = 0;
  for (let i = 0; i < headers.length; i += 2) size += 4 + room(headers[i]!) + room(headers[i + 1]!);
  return size;
}

function writeHeaderLines(headers: readonly HeaderField[], at: number): number {
  for (let i = 0; i < headers.length; i += 2) at = writeHeaderLine(headers[i]!, headers[i + 1]!, at);
  return at;
}

/**
 * The head of a response with `statusLine` ("200 OK"), X-Request-Id `requestId`, a node's `fields`
 * and then `more` ([name, value, …]), for writeStatus. A view of the thread's scratch buffer: valid
 * until the next call.
 */
export function responseHeadBlock(statusLine: string, requestId: string, fields: RawFields, more: readonly HeaderField[] | null = null): Buffer {
  const size =
    3 * statusLine.length + 4 + REQUEST_ID_HEADER.length + 3 * requestId.length + fieldsRoom(fields) + (more === null ? 0 : headersRoom(more));
  if (size > scratch.length) {
    scratch = Buffer.allocUnsafeSlow(Math.max(size, 2 * scratch.length));
    scratchBytes = scratch.buffer;
    view = Buffer.from(scratchBytes, 0, 0);
  }
  let at = writeHeaderLine(REQUEST_ID_HEADER, requestId, writeText(statusLine, 0));
  at = writeFields(fields, at);
  const length = more === null ? at : writeHeaderLines(more, at);
  if (view.length !== length) view = Buffer.from(scratchBytes, 0, length);
  return view;
}
