import { Buffer } from 'node:buffer';
import { ResponseHeadError } from './response-head.js';

const CR = 0x0d;
const LF = 0x0a;

/** An LF in `bytes` from `from` on not preceded by a CR: a line end this parser never takes (RFC 9112 §2.2 lets it refuse one). */
export function refuseBareLf(bytes: Buffer, from: number, code: string): void {
  for (let i = bytes.indexOf(LF, from); i >= 0; i = bytes.indexOf(LF, i + 1)) {
    if (i === 0 || bytes[i - 1] !== CR) throw new ResponseHeadError(code, 'an LF not after a CR');
  }
}

/** A CR in `bytes` from `from` on followed by anything but an LF (one last may be a CRLF's first half). */
export function refuseBareCr(bytes: Buffer, from: number, code: string): void {
  for (let i = bytes.indexOf(CR, from); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(CR, i + 1)) {
    if (bytes[i + 1] !== LF) throw new ResponseHeadError(code, 'a CR not followed by LF');
  }
}
