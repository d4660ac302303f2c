import { describe, expect, it } from 'vitest';
import { bytesLimitKey, LimitAddresses, textLimitKey } from '../../src/acceptor/limit-address.js';
import { trustedProxies } from '../../src/acceptor/forwarded-headers.js';
import type { RequestContext } from '../../src/acceptor/request-context.js';

const v4 = (a: number, b: number, c: number, d: number): Uint8Array => Uint8Array.of(a, b, c, d);
const v6 = (...groups: number[]): Uint8Array => Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));

/** A request from `peer` that says `forwardedFor`. */
function request(peer: Uint8Array, forwardedFor = ''): RequestContext {
  return { client: { remoteAddress: () => peer }, forwardedFor } as unknown as RequestContext;
}

describe('rate limit addresses', () => {
  it('keys IPv4 by the address and IPv6 by its /64, mapped IPv4 as IPv4', () => {
    expect(bytesLimitKey(v4(192, 0, 2, 7))).toBe('192.0.2.7');
    expect(bytesLimitKey(v6(0x2001, 0xdb8, 1, 2, 3, 4, 5, 6))).toBe('2001:db8:1:2::/64');
    expect(bytesLimitKey(v6(0x2001, 0xdb8, 1, 2, 0xffff, 0, 0, 1))).toBe('2001:db8:1:2::/64');
    expect(bytesLimitKey(v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0207))).toBe('192.0.2.7');
    expect(bytesLimitKey(v6(0, 0, 0, 0, 0, 0, 0, 1))).toBe('0:0:0:0::/64');
  });

  it('keys addresses written as text alike', () => {
    expect(textLimitKey('192.0.2.7')).toBe('192.0.2.7');
    expect(textLimitKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(textLimitKey('2001:DB8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(textLimitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(textLimitKey('::1')).toBe('0:0:0:0::/64');
    expect(textLimitKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(textLimitKey('64:ff9b::192.0.2.7')).toBe('64:ff9b:0:0::/64');
  });

  it("counts a trusted proxy's client by the last address it forwarded, walking back over trusted proxies", () => {
    const addresses = new LimitAddresses(trustedProxies(['127.0.0.1', '10.0.0.0/8']));
    const proxy = v4(127, 0, 0, 1);
    expect(addresses.of(request(proxy, '198.51.100.4'))).toBe('198.51.100.4');
    expect(addresses.of(request(proxy, '1.1.1.1, 198.51.100.4, 10.1.2.3'))).toBe('198.51.100.4');
    expect(addresses.of(request(proxy, ' 2001:db8:5:6::1 '))).toBe('2001:db8:5:6::/64');
    // Every hop trusted: the first is the furthest known.
    expect(addresses.of(request(proxy, '10.0.0.1, 10.0.0.2'))).toBe('10.0.0.1');
    // Not an address: the proxy's own counts.
    expect(addresses.of(request(proxy, 'unknown'))).toBe('127.0.0.1');
    expect(addresses.of(request(proxy))).toBe('127.0.0.1');
  });

  it('ignores X-Forwarded-For from anyone not trusted, and when no proxy is', () => {
    expect(new LimitAddresses(trustedProxies(['10.0.0.0/8'])).of(request(v4(192, 0, 2, 1), '198.51.100.4'))).toBe('192.0.2.1');
    expect(new LimitAddresses(trustedProxies([])).of(request(v4(127, 0, 0, 1), '198.51.100.4'))).toBe('127.0.0.1');
  });
});
