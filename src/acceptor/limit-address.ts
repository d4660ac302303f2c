import { isIPv4, isIPv6 } from 'node:net';
import { formatAddress } from './client-address.js';
import type { TrustCheck } from './forwarded-headers.js';
import type { RequestContext } from './request-context.js';

/**
 * Whom a rate limit by address counts (`by: "address"`, and a request without the tenant or
 * header its rule names).
 *
 * IPv6 clients count by their /64: a host is handed a whole /64 and may take any address in it,
 * so one per address would let it make as many limits as it likes (a /64 is what a site gives
 * each of its networks, and what Cloudflare's and most rate limiters key IPv6 by).
 *
 * Behind a trusted proxy (GATEWAY_TRUSTED_PROXIES) the client is the address that proxy put last
 * in X-Forwarded-For, walking back over any other trusted proxy in front of it (nginx's
 * `real_ip_recursive`): counted by the proxy's address, every client behind it would share one limit.
 * From anyone else X-Forwarded-For says nothing: the connection's address counts.
 */
export class LimitAddresses {
  readonly #trusts: TrustCheck | null;

  /** `trusts`: GATEWAY_TRUSTED_PROXIES (forwarded-headers.ts); null: nobody is. */
  constructor(trusts: TrustCheck | null) {
    this.#trusts = trusts;
  }

  /** The key of the request's client: an IPv4 address, or an IPv6 /64 as `a:b:c:d::/64`. */
  of(ctx: RequestContext): string {
    const bytes = ctx.client.remoteAddress();
    const trusts = this.#trusts;
    if (trusts === null || ctx.forwardedFor === '' || !trusts(formatAddress(bytes))) return bytesLimitKey(bytes);
    const hops = ctx.forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim();
      if (!isIPv4(hop) && !isIPv6(hop)) break;
      if (i > 0 && trusts(hop)) continue;
      return textLimitKey(hop);
    }
    // What the proxy forwarded is no address: the proxy's own counts.
    return bytesLimitKey(bytes);
  }
}

/** An address the socket gave as bytes, as a limit's key: IPv4 (mapped ones too) as it is, IPv6 by its /64. */
export function bytesLimitKey(bytes: Uint8Array): string {
  const text = formatAddress(bytes);
  if (bytes.length !== 16 || !text.includes(':')) return text;
  return prefix64([(bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!, (bytes[4]! << 8) | bytes[5]!, (bytes[6]! << 8) | bytes[7]!]);
}

/** A valid IPv4 or IPv6 address as text, as a limit's key (bytesLimitKey's forms). */
export function textLimitKey(address: string): string {
  if (isIPv4(address)) return address;
  const groups = ipv6Groups(address);
  const mapped = groups[5] === 0xffff && groups.slice(0, 5).every((group) => group === 0);
  if (mapped) return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  return prefix64(groups.slice(0, 4));
}

function prefix64(groups: readonly number[]): string {
  return `${groups.map((group) => group.toString(16)).join(':')}::/64`;
}

/** The 8 groups of an address isIPv6 accepted (a dotted IPv4 tail is two groups). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}
