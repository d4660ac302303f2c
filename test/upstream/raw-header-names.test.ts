import { describe, expect, it } from 'vitest';
import { RawHeaderNames } from '../../src/upstream/raw-header-names.js';

const raw = (text: string) => Buffer.from(text, 'latin1');

describe('RawHeaderNames', () => {
  const names = new RawHeaderNames(['connection', 'content-length', 'te', 'date']);

  it('recognises names in any letter case, by their bytes', () => {
    expect(names.find(raw('Content-Length'))).toBe('content-length');
    expect(names.find(raw('CONNECTION'))).toBe('connection');
    expect(names.find(raw('tE'))).toBe('te');
    expect(names.find(raw('Date'))).toBe('date');
  });

  it('does not match other names, same-length names, prefixes or lookalike bytes', () => {
    expect(names.find(raw('Content-Type'))).toBeNull();
    expect(names.find(raw('x-connectio'))).toBeNull(); // 11 bytes, not 10
    expect(names.find(raw('connectiom'))).toBeNull();
    expect(names.find(raw('Dat'))).toBeNull();
    expect(names.find(raw('Content\rLength'))).toBeNull(); // CR OR 0x20 is '-': only letters match case-insensitively
    expect(names.find(raw('D@te'))).toBeNull();
    expect(names.find(raw('x-longer-than-any-name-it-knows'))).toBeNull();
    expect(names.find(raw(''))).toBeNull();
  });

  it('refuses names it could not match safely', () => {
    expect(() => new RawHeaderNames(['X-Upper'])).toThrow(/lowercase/);
  });
});
