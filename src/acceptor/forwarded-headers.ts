import { BlockList } from 'node:net';
import { formatAddress } from './client-address.js';
import type { RequestContext } from './request-context.js';

/** Whether an address, as text, is one of GATEWAY_TRUSTED_PROXIES. */
export type TrustCheck = (address: string) => boolean;

/** The check of GATEWAY_TRUSTED_PROXIES' addresses and ranges; null when none is trusted. */
export function trustedProxies(ranges: readonly string[]): TrustCheck | null {
  if (ranges.length === 0) return null;
  const list = new BlockList();
  for (const range of ranges) {
    const [address, bits] = range.split('/') as [string, string | undefined];
    if (bits === undefined) list.addAddress(address, familyOf(address));
    else list.addSubnet(address, Number(bits), familyOf(address));
  }
  return (address) => list.check(address, familyOf(address));
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

/**
 * X-Forwarded-For / -Proto / -Host and Forwarded for the node. What a client says of the hops
 * before it (and in X-Real-IP and the like, request-head.ts) is kept only when the client is a
 * trusted proxy (GATEWAY_TRUSTED_PROXIES, e.g. the TLS terminator in front), with the proxy's own
 * hop appended: anyone else could claim any address or scheme, so theirs are replaced (or
 * dropped), not appended to. The gateway itself speaks plain HTTP, so its own scheme is `http`.
 */
export class ForwardedHeaders {
  /** null: no proxy is trusted (the default), and no address needs checking. */
  readonly #trusts: TrustCheck | null;

  constructor(trusts: TrustCheck | null) {
    this.#trusts = trusts;
  }

  /** Appends the forwarding headers to the request's headers. */
  add(ctx: RequestContext): void {
    const client = formatAddress(ctx.client.remoteAddress());
    // Only a request that says something of earlier hops costs an address check.
    const claims = ctx.forwardedFor !== '' || ctx.forwardedProto !== '' || ctx.forwarded !== '';
    const trusted = claims && this.#trusts !== null && this.#trusts(client);
    ctx.headers.push(
      'x-forwarded-for',
      trusted && ctx.forwardedFor !== '' ? `${ctx.forwardedFor}, ${client}` : client,
      'x-forwarded-proto',
      trusted && (ctx.forwardedProto === 'https' || ctx.forwardedProto === 'http') ? ctx.forwardedProto : 'http',
      'x-forwarded-host',
      ctx.host,
    );
    // The proxy's hop as the last element, as it is last in X-Forwarded-For.
    if (trusted && ctx.forwarded !== '') ctx.headers.push('forwarded', `${ctx.forwarded}, for=${forwardedNode(client)}`);
  }
}

/** An address as a Forwarded `for=` value (RFC 7239 §6): an IPv6 one quoted, in brackets. */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

/** The request's client is one of GATEWAY_TRUSTED_PROXIES (`trusts`; null: none is). */
export function fromTrustedProxy(ctx: RequestContext, trusts: TrustCheck | null): boolean {
  return trusts !== null && trusts(formatAddress(ctx.client.remoteAddress()));
}
