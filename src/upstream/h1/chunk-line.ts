import { Buffer } from 'node:buffer';
import { ResponseHeadError } from './response-head.js';

/**
 * The size a chunk-size line (RFC 9112 §7.1, its CRLF excluded) gives: hex digits, then nothing or
 * `;` extensions. Throws HPE_INVALID_CHUNK_SIZE for anything else, or a size of more than 13 hex
 * digits past its leading zeros (2^52 and up: not a real chunk, and past what a number holds exactly).
 */
export function chunkSize(line: Buffer): number {
  let size = 0;
  let significant = 0;
  let i = 0;
  for (; i < line.length; i++) {
    const digit = hexValue(line[i]!);
    if (digit < 0) break;
    if (size !== 0 || digit !== 0) {
      if (significant === 13) throw new ResponseHeadError('HPE_INVALID_CHUNK_SIZE', 'chunk size too large');
      significant++;
    }
    size = size * 16 + digit;
  }
  if (i === 0 || !validExtensions(line, i)) throw new ResponseHeadError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size line');
  return size;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** What follows a chunk size: nothing, or `;` extensions (whitespace before them allowed) of visible characters. */
function validExtensions(line: Buffer, from: number): boolean {
  let i = from;
  while (i < line.length && (line[i] === 0x20 || line[i] === 0x09)) i++;
  if (i === line.length) return i === from;
  if (line[i] !== 0x3b) return false;
  for (; i < line.length; i++) {
    const byte = line[i]!;
    if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) return false;
  }
  return true;
}
