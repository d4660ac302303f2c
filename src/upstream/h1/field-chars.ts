/**
 * Which bytes may appear where in an HTTP/1.1 head, as tables indexed by the byte (1 allowed, 0
 * refused): what the request head writer checks each character against and the answer's parser
 * each byte. One set of rules for both directions.
 */

function table(allowed: (code: number) => boolean): Uint8Array {
  const codes = new Uint8Array(256);
  for (let code = 0; code < 256; code++) codes[code] = allowed(code) ? 1 : 0;
  return codes;
}

const isLetterOrDigit = (code: number): boolean => (code >= 0x30 && code <= 0x39) || ((code | 0x20) >= 0x61 && (code | 0x20) <= 0x7a);

/** RFC 9110 tchar: field names and methods. */
export const TOKEN = table((code) => isLetterOrDigit(code) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(code)));

/** Field values and reason phrases: visible characters, obs-text, space and tab; no other control (a CR or LF would split the head). */
export const TEXT = table((code) => code === 0x09 || (code >= 0x20 && code !== 0x7f));

/**
 * A request target's ASCII: visible characters only (no space, CR or LF to end the request line
 * early). The writer takes a character past ASCII as UTF-8, not through this table.
 */
export const TARGET = table((code) => code > 0x20 && code !== 0x7f);
