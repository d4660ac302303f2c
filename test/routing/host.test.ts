import { describe, expect, it } from 'vitest';
import { isIPv6Address, isValidHost } from '../../src/routing/host.js';

describe('Host header values', () => {
  it.each([
    'rt.test',
    'RT.Test',
    'rt.test:8080',
    'rt.test:0',
    'rt.test:65535',
    '127.0.0.1',
    '127.0.0.1:80',
    'localhost',
    'xn--bcher-kva.example',
    'a-b_c~d.%41',
    "sub-delims!$&'()*+,;=",
    '[::1]',
    '[::1]:8080',
    '[2001:db8::7]',
    '[::ffff:192.0.2.1]:443',
    '[v1.fe80::a+en1]',
    '[V1.x]',
    'rt.test:',
    '[::1]:',
  ])('accepts %j', (host) => {
    expect(isValidHost(host)).toBe(true);
  });

  it.each([
    '',
    'rt test',
    'rt.test/../admin',
    'user@rt.test',
    'rt.test:65536',
    'rt.test:123456',
    'rt.test:x',
    'rt.test:80:80',
    'rt.test\t',
    'rt.%zz',
    '%4',
    '[::1',
    '[::1]x',
    '[not-ipv6]',
    '[::1]:99999',
    '[fe80::1%25eth0]',
    'a\\b',
    'rt.test#x',
    'rt.test?x',
    'ünicode.test',
  ])('refuses %j', (host) => {
    expect(isValidHost(host)).toBe(false);
  });
});

describe('IPv6 addresses (RFC 3986 IPv6address)', () => {
  it.each(['::', '::1', '1::', '1:2:3:4:5:6:7:8', '1::8', '2001:db8::7', 'fe80::1:2', '::ffff:192.0.2.1', '1:2:3:4:5:6:1.2.3.4', '::1.2.3.4', 'ABCD:ef01::'])(
    'accepts %s',
    (address) => {
      expect(isIPv6Address(address)).toBe(true);
    },
  );

  it.each(['', ':', ':1::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1::2::3', '12345::', '1.2.3.4::', '::256.1.1.1', '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%eth0', 'g::1', '1::2:'])(
    'refuses %j',
    (address) => {
      expect(isIPv6Address(address)).toBe(false);
    },
  );
});
