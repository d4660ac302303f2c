import { describe, expect, it } from 'vitest';
import { RawHeaderNames } from '../../src/upstream/raw-header-names.js';

const raw = (text: string) => Buffer.from(text, 'latin1');

describe('RawHeaderNames', () => {
  const names = new RawHeaderNames(['connection', 'content-length', 'te', 'date']);
  const find = (text: string): string | null => names.find(raw(text), 0, text.length);

  it('recognises names in any letter case, by their bytes', () => {
    expect(find('Content-Length')).toBe('content-length');
    expect(find('CONNECTION')).toBe('connection');
    expect(find('tE')).toBe('te');
    expect(find('Date')).toBe('date');
  });

  it('does not match other names, same-length names, prefixes or lookalike bytes', () => {
    expect(find('Content-Type')).toBeNull();
    expect(find('x-connectio')).toBeNull(); // 11 bytes, not 10
    expect(find('connectiom')).toBeNull();
    expect(find('Dat')).toBeNull();
    expect(find('Content\rLength')).toBeNull(); // CR OR 0x20 is '-': only letters match case-insensitively
    expect(find('D@te')).toBeNull();
    expect(find('x-longer-than-any-name-it-knows')).toBeNull();
    expect(find('')).toBeNull();
  });

  it('reads only the bytes from start to end', () => {
    const line = raw('xDate: Content-Length');
    expect(names.find(line, 1, 5)).toBe('date');
    expect(names.find(line, 7, 21)).toBe('content-length');
    expect(names.find(line, 0, 5)).toBeNull(); // 'xDate'
    expect(names.find(line, 7, 20)).toBeNull(); // 'Content-Lengt'
  });

  it('refuses names it could not match safely', () => {
    expect(() => new RawHeaderNames(['X-Upper'])).toThrow(/lowercase/);
  });
});
