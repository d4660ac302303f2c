import { BlockList } from 'node:net';
import { formatAddress } from './client-address.js';
import type { RequestContext } from './request-context.js';

/** GATEWAY_TRUSTED_PROXIES as a list to check addresses against; null when none is trusted. */
export function trustedProxyList(trustedProxies: readonly string[]): BlockList | null {
  if (trustedProxies.length === 0) return null;
  const list = new BlockList();
  for (const range of trustedProxies) {
    const [address, bits] = range.split('/') as [string, string | undefined];
    const family = addressFamily(address);
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

/** The family BlockList.check wants for an address as text. */
export function addressFamily(address: string): 'ipv4' | 'ipv6' {
  return address.includes(':') ? 'ipv6' : 'ipv4';
}

/**
 * X-Forwarded-For / -Proto / -Host and Forwarded for the node. What a client says of the hops
 * before it is kept only when the client is a trusted proxy (GATEWAY_TRUSTED_PROXIES, e.g. the
 * TLS terminator in front): anyone else could claim any address or scheme, so theirs are replaced,
 * not appended to. The gateway itself speaks plain HTTP, so its own scheme is `http`.
 */
export class ForwardedHeaders {
  /** null: no proxy is trusted (the default), and no address needs checking. */
  readonly #trusted: BlockList | null;

  constructor(trustedProxies: readonly string[]) {
    this.#trusted = trustedProxyList(trustedProxies);
  }

  /** Appends the forwarding headers to the request's headers. */
  add(ctx: RequestContext): void {
    const client = formatAddress(ctx.client.remoteAddress());
    // Only a request that says something of earlier hops costs an address check.
    const claims = ctx.forwardedFor !== '' || ctx.forwardedProto !== '' || ctx.forwarded !== '';
    const trusted = claims && this.#trusted !== null && this.#trusted.check(client, addressFamily(client));
    ctx.headers.push(
      'x-forwarded-for',
      trusted && ctx.forwardedFor !== '' ? `${ctx.forwardedFor}, ${client}` : client,
      'x-forwarded-proto',
      trusted && (ctx.forwardedProto === 'https' || ctx.forwardedProto === 'http') ? ctx.forwardedProto : 'http',
      'x-forwarded-host',
      ctx.host,
    );
    if (trusted && ctx.forwarded !== '') ctx.headers.push('forwarded', ctx.forwarded);
  }
}
