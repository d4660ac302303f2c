import { ResponseParser } from '../../src/upstream/h1/response-parser.js';
import { fieldTexts } from './raw-fields.js';

export interface Seen {
  heads: { status: number; headers: string[] }[];
  body: string;
  ends: boolean[];
}

/** Parses `wire` cut into pieces of `step` bytes (0: whole), or in two at `cut`, the read buffer reused between pieces as the socket's is. */
export function parse(wire: string, { method = 'GET', step = 0, cut = 0, pauseEvery = false }: { method?: string; step?: number; cut?: number; pauseEvery?: boolean } = {}): Seen & { consumed: number } {
  const seen: Seen = { heads: [], body: '', ends: [] };
  const parser = new ResponseParser(
    {
      onHead: (status, headers) => seen.heads.push({ status, headers: fieldTexts(headers) }) > 0,
      onBody: (chunk) => {
        seen.body += chunk.toString('latin1');
        return !pauseEvery;
      },
      onEnd: (keepAlive) => seen.ends.push(keepAlive),
    },
    1024,
  );
  parser.expect(method);
  const bytes = Buffer.from(wire, 'latin1');
  const reused = Buffer.alloc(bytes.length);
  let consumed = 0;
  const size = step === 0 ? bytes.length : step;
  for (let at = 0, end = 0; at < bytes.length; at = end) {
    end = Math.min(bytes.length, at < cut ? cut : at + size);
    const piece = reused.subarray(0, end - at);
    bytes.copy(piece, 0, at, end);
    let offset = 0;
    // A pause hands the rest back; resuming feeds it again (what the connection does).
    while (offset < piece.length && !parser.idle) offset += parser.execute(piece.subarray(offset));
    consumed += offset;
    reused.fill(0x21);
    if (parser.idle) break;
  }
  return { ...seen, consumed };
}

/** Read sizes a parser test cuts an answer into (0: whole). */
export const STEPS = [0, 1, 2, 3, 7];
