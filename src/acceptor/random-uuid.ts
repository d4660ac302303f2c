import { Buffer } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

/** UUIDs per refill of random bytes (crypto.randomUUID caches 128 the same way). */
const BATCH = 256;
const UUID_BYTES = 16;
const UUID_LENGTH = 36;
const DASH = 0x2d;
/** Each byte's two lower-case hex digits, as ASCII codes. */
const HEX_DIGITS = new Uint8Array(512);
for (let byte = 0; byte < 256; byte++) {
  const text = byte.toString(16).padStart(2, '0');
  HEX_DIGITS[byte * 2] = text.charCodeAt(0);
  HEX_DIGITS[byte * 2 + 1] = text.charCodeAt(1);
}

const random = Buffer.allocUnsafeSlow(UUID_BYTES * BATCH);
let used = BATCH;
const text = Buffer.allocUnsafeSlow(UUID_LENGTH);
text[8] = text[13] = text[18] = text[23] = DASH;

/**
 * A random (version 4, RFC 9562) UUID, as crypto.randomUUID makes it, from the same
 * cryptographically strong source. randomUUID joins 20 small strings for each one, ~0.4 KB of
 * garbage that is flattened again when the id is written; this writes the 36 characters into one
 * buffer and makes the string once.
 */
export function randomUuid(): string {
  if (used === BATCH) {
    randomFillSync(random);
    used = 0;
  }
  const from = used++ * UUID_BYTES;
  let at = 0;
  for (let i = 0; i < UUID_BYTES; i++) {
    let byte = random[from + i]!;
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // variant 10xx
    if (at === 8 || at === 13 || at === 18 || at === 23) at++;
    text[at++] = HEX_DIGITS[byte * 2]!;
    text[at++] = HEX_DIGITS[byte * 2 + 1]!;
  }
  return text.toString('latin1', 0, UUID_LENGTH);
}
