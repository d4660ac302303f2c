import { Buffer } from 'node:buffer';
import { RawFields } from '../upstream/raw-fields.js';

/**
 * A response kept for replay (Idempotency-Key): its status, forwarded headers and body in one
 * byte string that fits a slot of the shared idempotency table:
 *   u16 status, u16 header count, per header (u16 name length, name, u32 value length, value), body.
 * The capture copies the answer as it streams to the client and gives up (stores nothing) past
 * the slot's size, so a large answer costs no more than a small one.
 */

/**
 * Answers an Idempotency-Key does not keep, besides 5xx: the node did not do the write, or asks
 * for it again later. A retry after a token refresh (the reason keys are scoped by tenant) would
 * otherwise get the stored 401 for the key's whole TTL; so would one after the node's own rate
 * limit (429) or its request timeout (408), or one sent too early (425).
 */
const NOT_KEPT = new Set([401, 403, 408, 425, 429]);

export class ResponseCapture {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #status = 0;
  #fields = RawFields.EMPTY;

  /** `limit`: the size of a slot of the idempotency table. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The answer's head (again, for a retry's answer): `fields` are the forwarded ones. */
  start(status: number, fields: RawFields): void {
    this.#status = status;
    this.#fields = fields;
    this.#chunks = [];
    this.#bytes = 4;
    const spans = fields.spans;
    for (let s = 0; s < spans.length; s += 4) this.#bytes += 6 + spans[s + 1]! - spans[s]! + spans[s + 3]! - spans[s + 2]!;
  }

  /** Too large for a slot: nothing will be stored. */
  get overflowed(): boolean {
    return this.#bytes > this.#limit;
  }

  add(chunk: Buffer): void {
    this.#bytes += chunk.length;
    if (this.#bytes <= this.#limit) this.#chunks.push(Buffer.from(chunk));
  }

  /**
   * The encoded response; null when it overflowed, or no answer came, or (unless `every`, a
   * multiplexed call's answer for its followers) one an Idempotency-Key does not keep: a 5xx (the
   * client may try again) or one of NOT_KEPT.
   */
  encode(every = false): Buffer | null {
    if (this.#status === 0 || this.overflowed) return null;
    if (!every && (this.#status >= 500 || NOT_KEPT.has(this.#status))) return null;
    const out = Buffer.allocUnsafe(this.#bytes);
    out.writeUInt16BE(this.#status, 0);
    const { bytes, spans } = this.#fields;
    out.writeUInt16BE(spans.length / 4, 2);
    let at = 4;
    for (let s = 0; s < spans.length; s += 4) {
      const nameLength = spans[s + 1]! - spans[s]!;
      out.writeUInt16BE(nameLength, at);
      bytes.copy(out, at + 2, spans[s]!, spans[s + 1]!);
      at += 2 + nameLength;
      const valueLength = spans[s + 3]! - spans[s + 2]!;
      out.writeUInt32BE(valueLength, at);
      bytes.copy(out, at + 4, spans[s + 2]!, spans[s + 3]!);
      at += 4 + valueLength;
    }
    for (const chunk of this.#chunks) at += chunk.copy(out, at);
    return out;
  }
}

export interface StoredResponse {
  readonly status: number;
  /** Its forwarded header fields, in the stored bytes. */
  readonly fields: RawFields;
  readonly body: Buffer;
}

export function decodeResponse(bytes: Buffer): StoredResponse {
  const status = bytes.readUInt16BE(0);
  const count = bytes.readUInt16BE(2);
  const spans: number[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    const nameLength = bytes.readUInt16BE(at);
    spans.push(at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    const valueLength = bytes.readUInt32BE(at);
    spans.push(at + 4, at + 4 + valueLength);
    at += 4 + valueLength;
  }
  return { status, fields: new RawFields(bytes, spans), body: bytes.subarray(at) };
}
