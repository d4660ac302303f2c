import { describe, expect, it } from 'vitest';
import { decimalValue } from '../src/decimal.js';

describe('decimalValue', () => {
  it('reads 1 to maxDigits ASCII digits, leading zeros included', () => {
    expect(['0', '7', '4096', '000012', '999999999'].map((text) => decimalValue(text, 9))).toEqual([0, 7, 4096, 12, 999_999_999]);
    expect(decimalValue('9007199254740991', 16)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses what a Content-Length must not be: empty, too long, a sign, spaces, other digits', () => {
    const refused = ['', '1234567890', '+1', '-1', ' 1', '1 ', '1\n', '1.0', '1e3', '0x10', '١٢', '１'];
    expect(refused.map((text) => decimalValue(text, 9))).toEqual(refused.map(() => -1));
  });
});
