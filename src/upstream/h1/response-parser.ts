import { Buffer } from 'node:buffer';
import type { RawFields } from '../raw-fields.js';
import { chunkSize } from './chunk-line.js';
import { checkKeptChunkLine, checkKeptHead, checkKeptTrailers, HEAD_END, type KeptCheck } from './line-ends.js';
import { checkTrailerFields, ResponseHeadError, parseResponseHead, type ResponseFraming, type ResponseHead } from './response-head.js';

/** What a parsed answer tells its connection. */
export interface ResponseEvents {
  /** The final head (1xx heads are skipped): its fields, in a copy of their own. false: pause (no body bytes follow in this read). */
  onHead(status: number, fields: RawFields): boolean;
  /** Body bytes: a view of the buffer given to execute(), valid during the call only. false: pause. */
  onBody(chunk: Buffer): boolean;
  /** The answer ended; `keepAlive`: the connection may carry another request (idle for at most `idleHintMs`, -1: unsaid). */
  onEnd(keepAlive: boolean, idleHintMs: number): void;
}

const enum State {
  Idle,
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
}

/** A chunk-size line (its extensions included) longer than this is refused, as llhttp bounds them. */
const MAX_CHUNK_LINE = 4096;
const CR = 0x0d;
const LF = 0x0a;

/**
 * An HTTP/1.1 answer parser (RFC 9112) over bytes as the socket delivers them, strict where a
 * lenient reading could desynchronise the connection: CRLF line ends only, no obs-fold, one
 * Content-Length value, `Transfer-Encoding: chunked` only and never with a Content-Length, bounded
 * heads and chunk lines. Everything it refuses throws a ResponseHeadError with an `HPE_` code
 * (llhttp's names), after which the connection is not reused. Pure: no I/O, no timers.
 */
export class ResponseParser {
  readonly #events: ResponseEvents;
  readonly #maxHeadBytes: number;
  #state = State.Idle;
  #headOnly = false;
  #keepAlive = false;
  #idleHintMs = -1;
  /** Body bytes left (Length) or the current chunk's (ChunkData). */
  #remaining = 0;
  /** A head, chunk line or trailer section split across reads, kept until its end arrives. */
  #partial: Buffer | null = null;
  /** ChunkDataEnd: how much of the CRLF after a chunk's data was read. */
  #crlfRead = 0;
  /** onHead asked for a pause: execute() returns at the head's end. */
  #pausedAtHead = false;

  constructor(events: ResponseEvents, maxHeadBytes: number) {
    this.#events = events;
    this.#maxHeadBytes = maxHeadBytes;
  }

  /** A request went out: what comes next is its answer (a HEAD's has no body whatever it says). */
  expect(method: string): void {
    this.#state = State.Head;
    this.#headOnly = method === 'HEAD';
    this.#partial = null;
    this.#crlfRead = 0;
  }

  /** No answer is expected or being read (before the first request, after onEnd). */
  get idle(): boolean {
    return this.#state === State.Idle;
  }

  /** The answer's head has arrived and its body has not ended. */
  get inBody(): boolean {
    return this.#state > State.Head;
  }

  /**
   * Parses what the socket read; returns how many bytes were consumed: all of them, unless onHead
   * or onBody asked for a pause or the answer ended (the rest is then the caller's: unsolicited bytes).
   */
  execute(data: Buffer): number {
    let at = 0;
    const end = data.length;
    while (at < end) {
      switch (this.#state) {
        case State.Idle:
          return at;
        case State.Head:
          at = this.#head(data, at);
          if (!this.#pausedAtHead) break;
          this.#pausedAtHead = false;
          return at;
        case State.Length:
        case State.UntilClose: {
          const n = this.#state === State.UntilClose ? end - at : Math.min(this.#remaining, end - at);
          this.#remaining -= n;
          const more = this.#events.onBody(data.subarray(at, at + n));
          at += n;
          if (this.#state === State.Length && this.#remaining === 0) this.#finish();
          if (!more) return at;
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.#remaining, end - at);
          this.#remaining -= n;
          const more = this.#events.onBody(data.subarray(at, at + n));
          at += n;
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
          if (!more) return at;
          break;
        }
        case State.ChunkDataEnd:
          if (data[at] !== (this.#crlfRead === 0 ? CR : LF)) throw new ResponseHeadError('HPE_STRICT', 'chunk data not followed by CRLF');
          at++;
          if (++this.#crlfRead === 2) {
            this.#crlfRead = 0;
            this.#state = State.ChunkSize;
          }
          break;
        case State.ChunkSize:
          at = this.#chunkSize(data, at);
          break;
        case State.Trailers:
          at = this.#trailers(data, at);
          break;
      }
    }
    return at;
  }

  /** The connection closed: true when that ends the answer (a body delimited by the close). */
  closed(): boolean {
    if (this.#state !== State.UntilClose) return false;
    this.#state = State.Idle;
    this.#events.onEnd(false, -1);
    return true;
  }

  #head(data: Buffer, at: number): number {
    let parsed: ResponseHead | null;
    let next: number;
    // The usual case, a whole head in one read: parsed where it lies, without views of it.
    const index = this.#partial === null ? data.indexOf(HEAD_END, at) : -1;
    if (index >= 0 && index - at <= this.#maxHeadBytes) {
      parsed = parseResponseHead(data, at, index, this.#headOnly);
      next = index + HEAD_END.length;
    } else {
      const found = this.#untilMarker(data, at, HEAD_END, this.#maxHeadBytes, 'HPE_HEADER_OVERFLOW', checkKeptHead);
      if (found === null) return data.length;
      const head = found[0];
      parsed = parseResponseHead(head, 0, head.length, this.#headOnly);
      next = found[1];
    }
    // 1xx: informational, another head follows.
    if (parsed === null) return next;
    this.#keepAlive = parsed.keepAlive;
    this.#idleHintMs = parsed.idleHintMs;
    this.#pausedAtHead = !this.#events.onHead(parsed.status, parsed.fields);
    this.#frame(parsed.framing, parsed.length);
    return next;
  }

  #frame(framing: ResponseFraming, length: number): void {
    if (framing === 'none' || (framing === 'length' && length === 0)) return this.#finish();
    if (framing === 'length') {
      this.#state = State.Length;
      this.#remaining = length;
    } else if (framing === 'chunked') this.#state = State.ChunkSize;
    else this.#state = State.UntilClose;
  }

  #chunkSize(data: Buffer, at: number): number {
    const found = this.#untilMarker(data, at, HEAD_END.subarray(0, 2), MAX_CHUNK_LINE, 'HPE_CHUNK_EXTENSIONS_OVERFLOW', checkKeptChunkLine);
    if (found === null) return data.length;
    const [line, next] = found;
    const size = chunkSize(line);
    if (size === 0) this.#state = State.Trailers;
    else {
      this.#state = State.ChunkData;
      this.#remaining = size;
    }
    return next;
  }

  /** After the last chunk: trailer fields (checked, and dropped, as the exchange forwards none) to an empty line. */
  #trailers(data: Buffer, at: number): number {
    // The empty trailer section is the usual case: its CRLF follows the last chunk at once.
    if (this.#partial === null && data[at] === CR && at + 1 < data.length) {
      if (data[at + 1] !== LF) throw new ResponseHeadError('HPE_STRICT', 'bare CR after the last chunk');
      this.#finish();
      return at + 2;
    }
    const found = this.#untilMarker(data, at, HEAD_END, this.#maxHeadBytes, 'HPE_HEADER_OVERFLOW', checkKeptTrailers, HEAD_END.subarray(0, 2));
    if (found === null) return data.length;
    checkTrailerFields(found[0]);
    this.#finish();
    return found[1];
  }

  #finish(): void {
    this.#state = State.Idle;
    this.#events.onEnd(this.#keepAlive, this.#idleHintMs);
  }

  /**
   * The bytes up to `marker` (excluded; copied when they spanned reads, a view otherwise) and the
   * index after it; null when it has not arrived yet (what came is kept, at most `limit` bytes, else
   * `overflow` is thrown, and passed by `check`: see line-ends.ts). `alone`: a section that is only
   * this (an empty trailer section split across reads).
   */
  #untilMarker(data: Buffer, at: number, marker: Buffer, limit: number, overflow: string, check: KeptCheck, alone?: Buffer): [Buffer, number] | null {
    const kept = this.#partial;
    // Joined with what was kept only as far as the marker may lie (past it is an overflow anyway):
    // a split head or chunk line must not copy the body bytes of the read that completes it.
    const bytes = kept === null ? data.subarray(at) : Buffer.concat([kept, data.subarray(at, at + limit + marker.length)]);
    if (alone !== undefined && bytes.length >= alone.length && bytes.subarray(0, alone.length).equals(alone)) {
      this.#partial = null;
      return [bytes.subarray(0, 0), at + alone.length - (kept?.length ?? 0)];
    }
    // A marker split between the kept bytes and these starts at most marker.length - 1 back.
    const from = kept === null ? 0 : Math.max(0, kept.length - marker.length + 1);
    const index = bytes.indexOf(marker, from);
    if (index < 0 || index > limit) {
      if (bytes.length > limit) throw new ResponseHeadError(overflow, `more than ${limit} bytes without ${marker.length === 2 ? 'a line end' : 'the end of a head'}`);
      // A section with a line end never taken never shows its marker: checked now (from where the
      // marker could start: what was kept was checked before), not once the node's timeout ran out.
      check(bytes, from);
      this.#partial = Buffer.from(bytes);
      return null;
    }
    this.#partial = null;
    return [bytes.subarray(0, index), at + index + marker.length - (kept?.length ?? 0)];
  }
}
