import { describe, expect, it } from 'vitest';
import { ForwardedHeaders } from '../../src/acceptor/forwarded-headers.js';
import type { RequestContext } from '../../src/acceptor/request-context.js';

const v6 = (...groups: number[]): Uint8Array => Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));

/** The headers added for a request from `peer` that says `forwarded`. */
function added(trusted: string[], peer: Uint8Array, forwarded: string, claims: string[] = []): string[] {
  const ctx = { client: { remoteAddress: () => peer }, forwardedFor: '', forwardedProto: '', forwarded, proxyClaims: claims.length > 0, host: 'h', headers: [...claims] };
  new ForwardedHeaders(trusted).add(ctx as unknown as RequestContext);
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
    expect(added(['10.0.0.0/8'], Uint8Array.of(192, 0, 2, 9), '', ['x-real-ip', '198.51.100.1'])).not.toContain('x-real-ip');
  });

  it('passes a trusted proxy\'s X-Real-IP and the like as it sent them, even with nothing else said', () => {
    expect(added(['192.0.2.0/24'], Uint8Array.of(192, 0, 2, 9), '', ['x-real-ip', '198.51.100.1', 'accept', '*/*', 'x-forwarded-port', '443']).slice(0, 6)).toEqual([
      'x-real-ip', '198.51.100.1', 'accept', '*/*', 'x-forwarded-port', '443',
    ]);
    // From anyone else they go, and only they.
    expect(added(['10.0.0.0/8'], Uint8Array.of(192, 0, 2, 9), '', ['x-real-ip', '198.51.100.1', 'accept', '*/*', 'cf-connecting-ip', '1.2.3.4']).slice(0, 2)).toEqual(['accept', '*/*']);
  });
});
