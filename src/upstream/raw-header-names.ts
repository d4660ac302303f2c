import { Buffer } from 'node:buffer';

/**
 * Recognises a fixed set of header names in raw header Buffers (a node's answer, as either client
 * gives it) without making strings: the response path hands the raw name and value Buffers
 * straight to uWS, and only the few headers it must act on are decoded. Names are compared ASCII case-insensitively, by length first.
 */
export class RawHeaderNames {
  readonly #byLength = new Map<number, { readonly name: string; readonly bytes: Uint8Array }[]>();

  /** `names` in lowercase, letters and '-' only. */
  constructor(names: Iterable<string>) {
    for (const name of names) {
      if (!/^[a-z-]+$/.test(name)) throw new Error(`not a lowercase header name: ${name}`);
      const list = this.#byLength.get(name.length) ?? [];
      list.push({ name, bytes: Buffer.from(name, 'latin1') });
      this.#byLength.set(name.length, list);
    }
  }

  /** The lowercase name `raw` spells, or null when it is none of them. */
  find(raw: Uint8Array): string | null {
    const candidates = this.#byLength.get(raw.length);
    if (candidates === undefined) return null;
    for (const { name, bytes } of candidates) {
      let i = 0;
      for (; i < bytes.length; i++) {
        const want = bytes[i]!;
        const got = raw[i]!;
        // Letters (a-z) also match their uppercase form (OR 0x20 maps only that onto them); '-' exactly.
        if (got !== want && (want < 0x61 || (got | 0x20) !== want)) break;
      }
      if (i === bytes.length) return name;
    }
    return null;
  }
}
