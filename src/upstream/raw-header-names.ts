import { Buffer } from 'node:buffer';

/**
 * Recognises a fixed set of header names in raw header bytes (a node's answer, RawFields) without making strings: the response path hands the raw name and value bytes
 * straight to uWS, and only the few headers it must act on are decoded. Names are compared ASCII case-insensitively, by length first.
 */
export class RawHeaderNames {
  /** Indexed by name length: an array read, where a Map lookup was a builtin call and a hash for every header. */
  readonly #byLength: ({ readonly name: string; readonly bytes: Uint8Array }[] | undefined)[] = [];

  /** `names` in lowercase, letters and '-' only. */
  constructor(names: Iterable<string>) {
    for (const name of names) {
      if (!/^[a-z-]+$/.test(name)) throw new Error(`not a lowercase header name: ${name}`);
      (this.#byLength[name.length] ??= []).push({ name, bytes: Buffer.from(name, 'latin1') });
    }
  }

  /** The lowercase name that `raw` from `start` to `end` spells, or null when it is none of them. */
  find(raw: Uint8Array, start: number, end: number): string | null {
    const length = end - start;
    const candidates = length < this.#byLength.length ? this.#byLength[length] : undefined;
    if (candidates === undefined) return null;
    for (const { name, bytes } of candidates) {
      let i = 0;
      for (; i < bytes.length; i++) {
        const want = bytes[i]!;
        const got = raw[start + i]!;
        // Letters (a-z) also match their uppercase form (OR 0x20 maps only that onto them); '-' exactly.
        if (got !== want && (want < 0x61 || (got | 0x20) !== want)) break;
      }
      if (i === bytes.length) return name;
    }
    return null;
  }
}
