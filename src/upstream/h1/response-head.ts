import { Buffer } from 'node:buffer';
import { RawHeaderNames } from '../raw-header-names.js';
import { RawFields } from '../raw-fields.js';
import { TEXT, TOKEN } from './field-chars.js';
import { decimalValue, EXACT_DIGITS } from '../../decimal.js';

/** An answer the gateway will not read on: its code names the rule broken, as llhttp's do (HPE_…). */
export class ResponseHeadError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** How the body after a head is delimited (RFC 9112 §6.3). */
export type ResponseFraming = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHead {
  readonly status: number;
  /** Its header fields, in one copy of the head (the read buffer is reused). */
  readonly fields: RawFields;
  /** The connection may carry another request once the body ended. */
  readonly keepAlive: boolean;
  readonly framing: ResponseFraming;
  /** The Content-Length with framing 'length'. */
  readonly length: number;
  /** How long the node keeps an idle connection (`Keep-Alive: timeout=N`), in ms; -1: it did not say. */
  readonly idleHintMs: number;
}

const STATUS_LINE_PREFIX = Buffer.from('HTTP/1.', 'latin1');
const CR = 0x0d;
const LF = 0x0a;
/**
 * The fields' offsets as a head is read, copied out at their exact size once it is whole: pushed
 * into a new array, a usual head's grew it twice. Only ever grows; parsing never re-enters.
 */
const gathered: number[] = [];

/**
 * Parses an answer's head, `bytes` from `start` to `end`: from the status line to the last field
 * line's end, its final empty line excluded (copied: the read buffer is reused). null for a 1xx head
 * (informational: the real one follows); throws a ResponseHeadError for anything malformed or
 * ambiguous. `headOnly`: the request was a HEAD.
 */
export function parseResponseHead(bytes: Buffer, start: number, end: number, headOnly: boolean): ResponseHead | null {
  const size = end - start;
  const own = Buffer.allocUnsafe(size);
  bytes.copy(own, 0, start, end);
  const status = statusCode(own);
  const minor = own[7]! - 0x30;
  const statusEnd = fieldsStart(own);
  if (status === 101) throw new ResponseHeadError('HPE_INVALID_STATUS', 'an upgrade nobody asked for');
  let spanCount = 0;
  let length = -1;
  let chunked = false;
  let closeToken = false;
  let keepAliveToken = false;
  let idleHintMs = -1;
  for (let at = statusEnd; at < size; ) {
    const next = readFieldLine(own, at, size, gathered, spanCount);
    const colon = gathered[spanCount + 1]!;
    const valueStart = gathered[spanCount + 2]!;
    const valueEnd = gathered[spanCount + 3]!;
    spanCount += 4;
    switch (FRAMING_FIELDS.find(own, at, colon)) {
      case 'content-length':
        length = contentLength(own, valueStart, valueEnd, length);
        break;
      case 'transfer-encoding':
        // Only `chunked`, once: a coding we would have to undo, or chunked twice, is refused.
        if (chunked || own.toString('latin1', valueStart, valueEnd).toLowerCase() !== 'chunked') {
          throw new ResponseHeadError('HPE_INVALID_TRANSFER_ENCODING', 'a transfer coding other than chunked');
        }
        chunked = true;
        break;
      case 'connection':
        // A keep-alive node says this on every answer: no string for it.
        if (KEEP_ALIVE.find(own, valueStart, valueEnd) !== null) {
          keepAliveToken = true;
          break;
        }
        for (const token of own.toString('latin1', valueStart, valueEnd).toLowerCase().split(',')) {
          const option = token.trim();
          if (option === 'close') closeToken = true;
          else if (option === 'keep-alive') keepAliveToken = true;
        }
        break;
      case 'keep-alive': {
        const hint = /(?:^|[,;\s])timeout=(\d{1,6})/i.exec(own.toString('latin1', valueStart, valueEnd));
        if (hint !== null) idleHintMs = Number(hint[1]) * 1000;
        break;
      }
    }
    at = next;
  }
  if (status < 200) return null;
  if (chunked && length >= 0) throw new ResponseHeadError('HPE_UNEXPECTED_CONTENT_LENGTH', 'both Content-Length and Transfer-Encoding');
  const fields = new RawFields(own, gathered.slice(0, spanCount));
  // HTTP/1.1 stays open unless told to close; 1.0 closes unless told to stay.
  const keepAlive = !closeToken && (minor === 1 || keepAliveToken);
  // A 304's Content-Length and Transfer-Encoding may describe the representation it stands for
  // (RFC 9110 §8.6, RFC 9112 §6.1), as a HEAD's do. A 204 may carry neither: one that does may
  // send the body anyway, late, and the next request would read it as its answer.
  if (headOnly || status === 304) return { status, fields, keepAlive, framing: 'none', length: -1, idleHintMs };
  if (status === 204) return { status, fields, keepAlive: keepAlive && !chunked && length <= 0, framing: 'none', length: -1, idleHintMs };
  // HTTP/1.0 has no Transfer-Encoding: such framing is faulty, and the connection closes after it (RFC 9112 §6.1).
  if (chunked) return { status, fields, keepAlive: keepAlive && minor === 1, framing: 'chunked', length: -1, idleHintMs };
  if (length >= 0) return { status, fields, keepAlive, framing: 'length', length, idleHintMs };
  return { status, fields, keepAlive: false, framing: 'close', length: -1, idleHintMs };
}

/**
 * The status of a status line `HTTP/1.x SP 3DIGIT [SP reason] CRLF` (x: 0 or 1, read by the caller).
 * Past `HTTP/1.x SP`, a status cut short is refused as one holding a bad byte is (as llhttp does):
 * a code that hung on where the head ends could not be given to a head cut there by a read.
 */
function statusCode(head: Buffer): number {
  const minor = head[7]! - 0x30;
  if (head.length < 9 || !startsWith(head, STATUS_LINE_PREFIX) || (minor !== 0 && minor !== 1) || head[8] !== 0x20) {
    throw new ResponseHeadError('HPE_INVALID_CONSTANT', 'not an HTTP/1.0 or 1.1 status line');
  }
  if (head.length < 12) throw new ResponseHeadError('HPE_INVALID_STATUS', 'a status that is not three digits');
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = head[i]! - 0x30;
    if (digit < 0 || digit > 9) throw new ResponseHeadError('HPE_INVALID_STATUS', 'a status that is not three digits');
    status = status * 10 + digit;
  }
  if (status < 100) throw new ResponseHeadError('HPE_INVALID_STATUS', `status ${status}`);
  return status;
}

/**
 * A chunked answer's trailer section (`bytes`: its field lines, the final empty line excluded),
 * held to a head's rules: a token name, a colon, a value of TEXT, CRLF. Its fields are dropped
 * (the exchange forwards none); what no head would pass is refused here too, however it was split.
 */
export function checkTrailerFields(bytes: Buffer): void {
  for (let at = 0; at < bytes.length; ) {
    // A CR where a name would start is a bare one (a CRLF there would have ended the section).
    if (bytes[at] === CR) lineEnd(bytes, at);
    at = readFieldLine(bytes, at, bytes.length, trailerSpans, 0);
  }
}

/** Where readFieldLine puts a trailer line's offsets, which nothing reads. */
const trailerSpans: number[] = [];

/**
 * Reads the field line at `at` (the head or trailer section ends at `end`): a token name, its
 * colon, a value of TEXT, CRLF, or a ResponseHeadError. Its name's start, its colon, and its value
 * without the OWS around it go to `spans` from `spanAt`; returns where the next line starts.
 */
function readFieldLine(bytes: Buffer, at: number, end: number, spans: number[], spanAt: number): number {
  let i = at;
  while (i < end && TOKEN[bytes[i]!] === 1) i++;
  if (i === at || bytes[i] !== 0x3a) throw new ResponseHeadError('HPE_INVALID_HEADER_TOKEN', 'a field line without a token name and a colon');
  const colon = i++;
  while (i < end && (bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  const valueStart = i;
  let valueEnd = i;
  for (; i < end; i++) {
    const byte = bytes[i]!;
    // Visible characters and obs-text (TEXT without space and tab), nearly every byte: no table to read.
    if (byte > 0x20 && byte !== 0x7f) {
      valueEnd = i + 1;
      continue;
    }
    if (byte === CR) break;
    if (TEXT[byte] === 0) throw new ResponseHeadError('HPE_INVALID_HEADER_TOKEN', 'a control character in a field value');
  }
  spans[spanAt] = at;
  spans[spanAt + 1] = colon;
  spans[spanAt + 2] = valueStart;
  spans[spanAt + 3] = valueEnd;
  return lineEnd(bytes, i);
}

/** Where the field lines start: past the status line's reason phrase (checked) and its CRLF. */
function fieldsStart(head: Buffer): number {
  let i = 12;
  if (i < head.length && head[i] !== CR) {
    if (head[i] !== 0x20) throw new ResponseHeadError('HPE_INVALID_STATUS', 'no space after the status');
    for (i++; i < head.length && head[i] !== CR; i++) {
      if (TEXT[head[i]!] === 0) throw new ResponseHeadError('HPE_INVALID_STATUS', 'a control character in the reason phrase');
    }
  }
  return lineEnd(head, i);
}

/** Compared in place: a Buffer's subarray and equals are two calls into C++ for 7 bytes. */
function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Past the CRLF at `i` (or the end of the head, which its empty line followed): a CR alone is refused. */
function lineEnd(head: Buffer, i: number): number {
  if (i >= head.length) return head.length;
  if (head[i + 1] !== LF) throw new ResponseHeadError('HPE_STRICT', 'a CR not followed by LF');
  return i + 2;
}

/** The fields that decide how the answer is delimited and the connection kept, matched without making strings. */
const FRAMING_FIELDS = new RawHeaderNames(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);
/** A keep-alive node's Connection value on every answer. */
const KEEP_ALIVE = new RawHeaderNames(['keep-alive']);

/** A Content-Length field (`head` from `start` to `end`): digits, or a list of one value repeated; it must agree with any before it. */
function contentLength(head: Buffer, start: number, end: number, before: number): number {
  let i = start;
  for (; i < end && i - start <= EXACT_DIGITS; i++) if (head[i]! < 0x30 || head[i]! > 0x39) break;
  const digits = i - start;
  // The usual case, one plain number: read without a string.
  if (i === end && digits > 0 && digits <= EXACT_DIGITS) {
    let length = 0;
    for (let j = start; j < end; j++) length = length * 10 + head[j]! - 0x30;
    if (before >= 0 && length !== before) throw new ResponseHeadError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length values that disagree');
    return length;
  }
  const value = head.toString('latin1', start, end);
  let result = before;
  for (const part of value.split(',')) {
    const length = decimalValue(withoutLeadingZeros(part.trim()), EXACT_DIGITS);
    if (length < 0) throw new ResponseHeadError('HPE_INVALID_CONTENT_LENGTH', `Content-Length ${JSON.stringify(value)}`);
    if (result >= 0 && length !== result) throw new ResponseHeadError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length values that disagree');
    result = length;
  }
  return result;
}

/** RFC 9112 lets a length have leading zeros: only the digits after them count against the limit. */
function withoutLeadingZeros(digits: string): string {
  let i = 0;
  while (i < digits.length - 1 && digits.charCodeAt(i) === 0x30) i++;
  return digits.slice(i);
}
