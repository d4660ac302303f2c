import { Buffer } from 'node:buffer';
import { checkTrailerFields, parseResponseHead, ResponseHeadError } from './response-head.js';

/**
 * What a head, chunk line or trailer section kept while its end has not come may not hold: a line
 * end this parser never takes, a bare LF (RFC 9112 §2.2 lets it refuse one) or a CR not followed by
 * LF. Such a section never shows the CRLF (CRLF) looked for, so it is refused as the bytes come, not
 * once the node's timeout ran out. Each check gets the kept bytes and `from`, where the bytes not
 * looked at yet (or a line end they may complete) start; a CR last may be a CRLF's first half.
 */
export type KeptCheck = (bytes: Buffer, from: number) => void;

const CR = 0x0d;
const LF = 0x0a;
/** The empty line that ends a head or a trailer section (its first two bytes end any line). */
export const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** The shortest status line, `HTTP/1.1 200`: a shorter head is refused for that (HPE_INVALID_CONSTANT). */
const STATUS_LINE_MIN = 12;
/** Where the status code starts: a bad byte before it is HPE_INVALID_CONSTANT, whatever the head's length. */
const STATUS_CODE_AT = 9;

/** Where the first bare LF or bare CR lies in `bytes` from `from` on; -1: none. */
function firstBareLineEnd(bytes: Buffer, from: number): number {
  let bare = -1;
  for (let i = bytes.indexOf(LF, from); i >= 0; i = bytes.indexOf(LF, i + 1)) {
    if (i === 0 || bytes[i - 1] !== CR) {
      bare = i;
      break;
    }
  }
  for (let i = bytes.indexOf(CR, from); i >= 0 && i + 1 < bytes.length && (bare < 0 || i < bare); i = bytes.indexOf(CR, i + 1)) {
    if (bytes[i + 1] !== LF) return i;
  }
  return bare;
}

/** A chunk line's only CR and LF are its CRLF's: anything else is refused as the whole line is. */
export const checkKeptChunkLine: KeptCheck = (bytes, from) => {
  if (firstBareLineEnd(bytes, from) >= 0) throw new ResponseHeadError('HPE_INVALID_CHUNK_SIZE', 'a CR or LF that is not a line end');
};

/**
 * A head with a bare line end is parsed as it is: read line by line, it throws at that line what
 * the whole head throws (a CR ends a value or reason with HPE_STRICT and a name with
 * HPE_INVALID_HEADER_TOKEN, say). Only among the status digits does the code hang on bytes yet to
 * come, whether the head is a whole status line long: the check waits until that is known, looking
 * at the head from its start again while it is that short.
 */
export const checkKeptHead: KeptCheck = (bytes, from) => {
  const bare = firstBareLineEnd(bytes, from < STATUS_LINE_MIN ? 0 : from);
  if (bare < 0) return;
  if (bare >= STATUS_CODE_AT && bare < STATUS_LINE_MIN - 1 && mayEndBefore(bytes, STATUS_LINE_MIN)) return;
  parseResponseHead(bytes, 0, bytes.length, false);
};

/** A trailer section with a bare line end is checked as it is, throwing what the whole section would. */
export const checkKeptTrailers: KeptCheck = (bytes, from) => {
  if (firstBareLineEnd(bytes, from) >= 0) checkTrailerFields(bytes);
};

/** Whether a head's end, not among `bytes`, may still start before `at`: only its last three bytes may begin one. */
function mayEndBefore(bytes: Buffer, at: number): boolean {
  for (let i = Math.max(0, bytes.length - HEAD_END.length + 1); i < at && i <= bytes.length; i++) {
    if (HEAD_END.compare(bytes, i, bytes.length, 0, bytes.length - i) === 0) return true;
  }
  return false;
}
