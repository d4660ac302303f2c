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
  /** Raw [name, value, …], views of one copy of the head (the read buffer is reused). */
  readonly headers: Buffer[];
  /** The connection may carry another request once the body ended. */
  readonly keepAlive: boolean;
  readonly framing: ResponseFraming;
  /** The Content-Length with framing 'length'. */
  readonly length: number;
  /** How long the node keeps an idle connection (`Keep-Alive: timeout=N`), in ms; -1: it did not say. */
  readonly idleHintMs: number;
}

/** RFC 9110 tchar: what a field name is made of. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = TOKEN[c + 0x20] = 1;
/** Field values and reason phrases: visible characters, obs-text, space and tab; no other control. */
const TEXT = new Uint8Array(256).fill(1);
for (let c = 0; c < 0x20; c++) TEXT[c] = 0;
TEXT[0x09] = 1;
TEXT[0x7f] = 0;

const STATUS_LINE_PREFIX = Buffer.from('HTTP/1.', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
/** Content-Length values are at most 15 digits (below 2^53). */
const MAX_LENGTH_DIGITS = 15;

/**
 * Parses an answer's head: `head` runs from the status line to the last field line's end, its
 * final empty line excluded. null for a 1xx head (informational: the real one follows); throws a
 * ResponseHeadError for anything malformed or ambiguous. `headOnly`: the request was a HEAD.
 */
export function parseResponseHead(head: Buffer, headOnly: boolean): ResponseHead | null {
  const own = Buffer.from(head);
  let lineEnd = own.indexOf(CRLF);
  if (lineEnd < 0) lineEnd = own.length;
  const [status, minor] = statusLine(own, lineEnd);
  if (status === 101) throw new ResponseHeadError('HPE_INVALID_STATUS', 'an upgrade nobody asked for');
  const headers: Buffer[] = [];
  let length = -1;
  let chunked = false;
  let closeToken = false;
  let keepAliveToken = false;
  let idleHintMs = -1;
  let at = lineEnd + 2;
  while (at < own.length) {
    let end = own.indexOf(CRLF, at);
    if (end < 0) end = own.length;
    const colon = fieldName(own, at, end);
    let valueStart = colon + 1;
    let valueEnd = end;
    while (valueStart < valueEnd && (own[valueStart] === 0x20 || own[valueStart] === 0x09)) valueStart++;
    while (valueEnd > valueStart && (own[valueEnd - 1] === 0x20 || own[valueEnd - 1] === 0x09)) valueEnd--;
    for (let i = valueStart; i < valueEnd; i++) {
      if (TEXT[own[i]!] === 0) throw new ResponseHeadError('HPE_INVALID_HEADER_TOKEN', 'a control character in a field value');
    }
    const name = own.subarray(at, colon);
    const value = own.subarray(valueStart, valueEnd);
    headers.push(name, value);
    switch (framingField(name)) {
      case 'content-length':
        length = contentLength(value, length);
        break;
      case 'transfer-encoding':
        // Only `chunked`, once: a coding we would have to undo, or chunked twice, is refused.
        if (chunked || value.toString('latin1').toLowerCase() !== 'chunked') throw new ResponseHeadError('HPE_INVALID_TRANSFER_ENCODING', 'a transfer coding other than chunked');
        chunked = true;
        break;
      case 'connection':
        for (const token of value.toString('latin1').toLowerCase().split(',')) {
          const option = token.trim();
          if (option === 'close') closeToken = true;
          else if (option === 'keep-alive') keepAliveToken = true;
        }
        break;
      case 'keep-alive': {
        const hint = /(?:^|[,;\s])timeout=(\d{1,6})/i.exec(value.toString('latin1'));
        if (hint !== null) idleHintMs = Number(hint[1]) * 1000;
        break;
      }
    }
    at = end + 2;
  }
  if (status < 200) return null;
  if (chunked && length >= 0) throw new ResponseHeadError('HPE_UNEXPECTED_CONTENT_LENGTH', 'both Content-Length and Transfer-Encoding');
  // HTTP/1.1 stays open unless told to close; 1.0 closes unless told to stay.
  const keepAlive = !closeToken && (minor === 1 || keepAliveToken);
  if (headOnly || status === 204 || status === 304) return { status, headers, keepAlive, framing: 'none', length: -1, idleHintMs };
  if (chunked) return { status, headers, keepAlive, framing: 'chunked', length: -1, idleHintMs };
  if (length >= 0) return { status, headers, keepAlive, framing: 'length', length, idleHintMs };
  return { status, headers, keepAlive: false, framing: 'close', length: -1, idleHintMs };
}

/** `HTTP/1.x SP 3DIGIT [SP reason]`: the status and the minor version. */
function statusLine(head: Buffer, end: number): [number, number] {
  const minor = head[7]! - 0x30;
  if (end < 12 || !head.subarray(0, 7).equals(STATUS_LINE_PREFIX) || (minor !== 0 && minor !== 1) || head[8] !== 0x20) {
    throw new ResponseHeadError('HPE_INVALID_CONSTANT', 'not an HTTP/1.0 or 1.1 status line');
  }
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = head[i]! - 0x30;
    if (digit < 0 || digit > 9) throw new ResponseHeadError('HPE_INVALID_STATUS', 'a status that is not three digits');
    status = status * 10 + digit;
  }
  if (status < 100) throw new ResponseHeadError('HPE_INVALID_STATUS', `status ${status}`);
  if (end > 12 && head[12] !== 0x20) throw new ResponseHeadError('HPE_INVALID_STATUS', 'no space after the status');
  for (let i = 13; i < end; i++) {
    if (TEXT[head[i]!] === 0) throw new ResponseHeadError('HPE_INVALID_STATUS', 'a control character in the reason phrase');
  }
  return [status, minor];
}

/** Where the colon ending a field line's name is; the name must be a non-empty token (no obs-fold). */
function fieldName(head: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && TOKEN[head[i]!] === 1) i++;
  if (i === start || i === end || head[i] !== 0x3a) throw new ResponseHeadError('HPE_INVALID_HEADER_TOKEN', 'a field line without a token name and a colon');
  return i;
}

type FramingField = 'content-length' | 'transfer-encoding' | 'connection' | 'keep-alive';
const FRAMING_FIELDS: ReadonlySet<string> = new Set<FramingField>(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** The fields that decide how the answer is delimited and the connection kept, by name, case-insensitively. */
function framingField(name: Buffer): FramingField | null {
  const n = name.length;
  if (n !== 10 && n !== 14 && n !== 17) return null;
  const lower = name.toString('latin1').toLowerCase();
  return FRAMING_FIELDS.has(lower) ? (lower as FramingField) : null;
}

/** A Content-Length field: digits, or a list of one value repeated; it must agree with any before it. */
function contentLength(value: Buffer, before: number): number {
  let result = before;
  for (const part of value.toString('latin1').split(',')) {
    const digits = part.trim();
    if (digits.length === 0 || digits.length > MAX_LENGTH_DIGITS || !/^\d+$/.test(digits)) {
      throw new ResponseHeadError('HPE_INVALID_CONTENT_LENGTH', `Content-Length ${JSON.stringify(value.toString('latin1'))}`);
    }
    const length = Number(digits);
    if (result >= 0 && length !== result) throw new ResponseHeadError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Content-Length values that disagree');
    result = length;
  }
  return result;
}
