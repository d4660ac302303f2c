import { describe, expect, it } from 'vitest';
import { formatAddress } from '../../src/acceptor/client-address.js';

const bytes = (...values: number[]) => Uint8Array.from(values);
const mapped = (a: number, b: number, c: number, d: number) => bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d);

describe('formatAddress', () => {
  it('prints IPv4 and IPv4-mapped IPv6 as dotted quads', () => {
    expect(formatAddress(bytes(127, 0, 0, 1))).toBe('127.0.0.1');
    expect(formatAddress(mapped(10, 1, 255, 7))).toBe('10.1.255.7');
    expect(formatAddress(mapped(10, 1, 255, 7))).toBe('10.1.255.7'); // remembered text, same answer
    expect(formatAddress(mapped(192, 168, 0, 1))).toBe('192.168.0.1');
  });

  it('prints IPv6 in RFC 5952 form', () => {
    const loopback = new Uint8Array(16);
    loopback[15] = 1;
    expect(formatAddress(loopback)).toBe('::1');
    expect(formatAddress(new Uint8Array(16))).toBe('::');
    const doc = bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01);
    expect(formatAddress(doc)).toBe('2001:db8::1');
    // One zero group is not compressed; the longer of two zero runs is.
    const runs = bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1);
    expect(formatAddress(runs)).toBe('2001:db8:0:1::1');
    const noZero = bytes(0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6);
    expect(formatAddress(noZero)).toBe('2001:db8:1:2:3:4:5:6');
  });

  it('does not mistake an address ending in ffff:a.b.c.d with non-zero prefix for IPv4', () => {
    const notMapped = bytes(0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4);
    expect(formatAddress(notMapped)).toBe('1::ffff:102:304');
  });
});
