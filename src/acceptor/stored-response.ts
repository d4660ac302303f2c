import { Buffer } from 'node:buffer';

/**
 * A response kept for replay (Idempotency-Key): its status, forwarded headers and body in one
 * byte string that fits a slot of the shared idempotency table:
 *   u16 status, u16 header count, per header (u16 name length, name, u32 value length, value), body.
 * The capture copies the answer as it streams to the client and gives up (stores nothing) past
 * the slot's size, so a large answer costs no more than a small one.
 */

export class ResponseCapture {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  #status = 0;
  #headers: readonly Uint8Array[] = [];

  /** `limit`: the size of a slot of the idempotency table. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The answer's head (again, for a retry's answer): `headers` are the forwarded raw [name, value, …] bytes. */
  start(status: number, headers: readonly Uint8Array[]): void {
    this.#status = status;
    this.#headers = headers;
    this.#chunks = [];
    this.#bytes = 4;
    for (let i = 0; i < headers.length; i += 2) this.#bytes += 6 + headers[i]!.length + headers[i + 1]!.length;
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
   * The encoded response; null when it overflowed, or no answer came, or (unless `with5xx`) a 5xx,
   * which an Idempotency-Key does not keep (the client may try again).
   */
  encode(with5xx = false): Buffer | null {
    if (this.#status === 0 || (this.#status >= 500 && !with5xx) || this.overflowed) return null;
    const out = Buffer.allocUnsafe(this.#bytes);
    out.writeUInt16BE(this.#status, 0);
    out.writeUInt16BE(this.#headers.length / 2, 2);
    let at = 4;
    for (let i = 0; i < this.#headers.length; i += 2) {
      const name = this.#headers[i]!;
      const value = this.#headers[i + 1]!;
      out.writeUInt16BE(name.length, at);
      out.set(name, at + 2);
      at += 2 + name.length;
      out.writeUInt32BE(value.length, at);
      out.set(value, at + 4);
      at += 4 + value.length;
    }
    for (const chunk of this.#chunks) at += chunk.copy(out, at);
    return out;
  }
}

export interface StoredResponse {
  readonly status: number;
  /** Raw [name, value, …] Buffers, as uWS takes them. */
  readonly headers: Buffer[];
  readonly body: Buffer;
}

export function decodeResponse(bytes: Buffer): StoredResponse {
  const status = bytes.readUInt16BE(0);
  const count = bytes.readUInt16BE(2);
  const headers: Buffer[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    const nameLength = bytes.readUInt16BE(at);
    headers.push(bytes.subarray(at + 2, at + 2 + nameLength));
    at += 2 + nameLength;
    const valueLength = bytes.readUInt32BE(at);
    headers.push(bytes.subarray(at + 4, at + 4 + valueLength));
    at += 4 + valueLength;
  }
  return { status, headers, body: bytes.subarray(at) };
}
