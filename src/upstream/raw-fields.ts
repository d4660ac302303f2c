import { Buffer } from 'node:buffer';

/**
 * A node's answer's header fields, without an object per field: the head's bytes and, four numbers
 * a field, where its name and value lie in them: [nameStart, nameEnd, valueStart, valueEnd, …]
 * (the value without the whitespace around it). A view per name and per value made 16 objects of a
 * usual answer's head, about 1.1 KB of the 5.7 KB of garbage a get-1k request left; the offsets are
 * one array.
 *
 * The bytes are the answer's own (never a read buffer that is reused), so the fields may be kept as
 * they are: by a multiplexed call for its followers, by a capture for replay. The exchange drops
 * fields from `spans` in place (forwardResponseHead): from then on they are the forwarded ones.
 */
export class RawFields {
  static readonly EMPTY = new RawFields(Buffer.alloc(0), []);

  constructor(
    readonly bytes: Buffer,
    readonly spans: number[],
  ) {}

  /** `list`: raw [name, value, …] (undici's Buffers), copied into one buffer. */
  static fromList(list: readonly Uint8Array[]): RawFields {
    let size = 0;
    for (const field of list) size += field.length;
    const bytes = Buffer.allocUnsafe(size);
    const spans: number[] = [];
    let at = 0;
    for (const field of list) {
      bytes.set(field, at);
      spans.push(at, at + field.length);
      at += field.length;
    }
    return new RawFields(bytes, spans);
  }

  /** Removes the fields whose name, in lower case, is in `names`. */
  dropNamed(names: ReadonlySet<string>): void {
    const spans = this.spans;
    let kept = 0;
    for (let s = 0; s < spans.length; s += 4) {
      if (names.has(this.text(spans[s]!, spans[s + 1]!).toLowerCase())) continue;
      for (let k = 0; k < 4; k++) spans[kept + k] = spans[s + k]!;
      kept += 4;
    }
    spans.length = kept;
  }

  /** The bytes from `start` to `end` as text (latin1: a character a byte), for the few fields read as text. */
  text(start: number, end: number): string {
    return this.bytes.toString('latin1', start, end);
  }
}
