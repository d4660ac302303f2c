import { describe, expect, it } from 'vitest';
import { ForwardedHeaders, fromTrustedProxy, trustedProxies } from '../../src/acceptor/forwarded-headers.js';
import type { RequestContext } from '../../src/acceptor/request-context.js';

const v6 = (...groups: number[]): Uint8Array => Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));

/** The headers added for a request from `peer` that says `forwarded`. */
function added(trusted: string[], peer: Uint8Array, forwarded: string): string[] {
  const ctx = { client: { remoteAddress: () => peer }, forwardedFor: '', forwardedProto: '', forwarded, host: 'h', headers: [] as string[] };
  new ForwardedHeaders(trustedProxies(trusted)).add(ctx as unknown as RequestContext);
  return ctx.headers;
}

describe('Forwarded from a trusted proxy', () => {
  it('appends the proxy reached over IPv6 quoted, in brackets (RFC 7239 §6), and over IPv4 as it is', () => {
    expect(added(['::1'], v6(0, 0, 0, 0, 0, 0, 0, 1), 'for=192.0.2.7')).toEqual([
      'x-forwarded-for', '::1', 'x-forwarded-proto', 'http', 'x-forwarded-host', 'h', 'forwarded', 'for=192.0.2.7, for="[::1]"',
    ]);
    expect(added(['192.0.2.0/24'], Uint8Array.of(192, 0, 2, 9), 'for=198.51.100.1').at(-1)).toBe('for=198.51.100.1, for=192.0.2.9');
  });

  it('drops what an untrusted client says', () => {
    expect(added(['10.0.0.0/8'], Uint8Array.of(192, 0, 2, 9), 'for=198.51.100.1')).not.toContain('forwarded');
  });
});

describe('fromTrustedProxy', () => {
  const from = (trusted: string[], peer: Uint8Array): boolean =>
    fromTrustedProxy({ client: { remoteAddress: () => peer } } as unknown as RequestContext, trustedProxies(trusted));

  it('is whether the client is one of GATEWAY_TRUSTED_PROXIES', () => {
    expect(from(['192.0.2.0/24'], Uint8Array.of(192, 0, 2, 9))).toBe(true);
    expect(from(['10.0.0.0/8'], Uint8Array.of(192, 0, 2, 9))).toBe(false);
    expect(from([], Uint8Array.of(192, 0, 2, 9))).toBe(false);
  });
});
