/** The most digits of which every value is under 2^53, so a Number holds it exactly. */
export const EXACT_DIGITS = 15;

/**
 * The value of `text` when it is 1 to `maxDigits` ASCII digits and nothing else (a Content-Length
 * as RFC 9110 §8.6 has it, or a count: no sign, no space); -1 otherwise. A loop over the
 * characters, not a RegExp and Number(): each of those is a call out of the compiled code, on
 * every request with a body.
 */
export function decimalValue(text: string, maxDigits: number): number {
  if (text.length === 0 || text.length > maxDigits) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
