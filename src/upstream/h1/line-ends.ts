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
 * HPE_INVALID_HEADER_TOKEN, among the status digits HPE_INVALID_STATUS, say).
 */
export const checkKeptHead: KeptCheck = (bytes, from) => {
  if (firstBareLineEnd(bytes, from) >= 0) parseResponseHead(bytes, 0, bytes.length, false);
};

/** A trailer section with a bare line end is checked as it is, throwing what the whole section would. */
export const checkKeptTrailers: KeptCheck = (bytes, from) => {
  if (firstBareLineEnd(bytes, from) >= 0) checkTrailerFields(bytes);
};
