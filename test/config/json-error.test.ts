import { describe, expect, it } from 'vitest';
import { describeJsonError } from '../../src/config/json-error.js';

/** What a config error says of `text`, which JSON.parse refuses. */
function described(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return describeJsonError(text, (err as Error).message);
  }
  throw new Error('parsed');
}

describe('a config file that is not valid JSON', () => {
  it('is described by where it breaks, never by the text around the fault', () => {
    const long = `{\n  "gateway": { "adminToken": supersecret-admin-token-1, "x": "${'y'.repeat(40)}" }\n}`;
    expect(described(long)).toBe('Unexpected token near line 2, column 30');
    // At the start of a long text V8 quotes from the start, cut after the fault.
    expect(described(`[x, "${'a'.repeat(40)}"]`)).toBe('Unexpected token near line 1, column 2');
    expect(described('{"a": 1,}')).toBe('Expected double-quoted property name at line 1, column 9');
    expect(described('{"a":1} x')).toBe('Unexpected non-whitespace character after JSON at line 1, column 9');
    expect(described('{"a": 1')).toBe("Expected ',' or '}' after property value at line 1, column 8");
    expect(described('')).toBe('Unexpected end of JSON input');
    for (const text of [long, `[x, "${'a'.repeat(40)}"]`]) expect(described(text)).not.toMatch(/supersecre|aaaa/);
  });
});
