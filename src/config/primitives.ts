import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/** Field types the config schemas share. */
export const portSchema = z.number().int().min(0).max(65535);
/**
 * A zone's name (GATEWAY_ZONE, a node's `az`, a zoneCosts key): compared as it is, so a space
 * around it (an env file's trailing blank) would make every node another zone's, silently.
 */
export const zoneNameSchema = z.string().min(1).max(64).regex(/^\S([^]*\S)?$/, 'must not begin or end with whitespace');
export const positiveMs = z.number().int().min(1).max(24 * 3600 * 1000);
/** A request path (a route's, a health check's); with no "#", which no request target holds (requests with one are refused). */
export const pathSchema = z.string().startsWith('/', 'must start with "/"').regex(/^[^#]*$/, 'must hold no "#": no request path holds one');
/** An HTTP header name, lower-cased (uWS and undici hand header names over in lower case). */
export const headerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
  .transform((name) => name.toLowerCase());
/** A DNS name (RFC 1123 labels). */
export const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/**
 * Where a server listens: an IP address or a host name. Checked here so that `ringgate check`
 * catches what would only fail at listen (`0.0.0.0:8080`, `http://…`, `999.1.1.1`).
 */
export const listenHostSchema = z
  .string()
  .refine((host) => isIP(host) !== 0 || (DNS_NAME.test(host) && !/^[\d.]+$/.test(host)), 'must be an IP address (0.0.0.0, ::, 127.0.0.1) or a host name, without a port or brackets');
/** An IP address, or a CIDR range of them (`10.0.0.0/8`, `fd00::/8`). */
export const addressRangeSchema = z.string().refine((text) => {
  const [address, bits, extra] = text.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) return false;
  return family === 4 || Number(bits) >= 96 || !coversMappedIpv4(address!, Number(bits));
}, 'must be an IP address or a CIDR range (address/bits; an IPv6 one over IPv4-mapped addresses at least /96)');

/**
 * An IPv4 client is matched against IPv6 ranges as ::ffff:a.b.c.d: a range shorter than /96 that
 * holds ::ffff:0:0 (::/0, ::/80, ::ffff:0:0/80…) would trust every IPv4 client, whatever it says.
 */
function coversMappedIpv4(address: string, bits: number): boolean {
  const range = new BlockList();
  range.addSubnet(address, bits, 'ipv6');
  return range.check('::ffff:0:0', 'ipv6');
}

/**
 * A url's scheme in lower case (RFC 3986 §3.1: schemes are case-insensitive): what reads a node's
 * url tests its scheme as `https:`, and `HTTPS://` would otherwise go without the cluster's tls.
 */
export function lowerScheme(raw: string): string {
  return raw.replace(/^[A-Za-z][A-Za-z0-9+.-]*:/, (scheme) => scheme.toLowerCase());
}

/** A node's url: an http or https origin, its scheme in lower case. */
export const originSchema = z
  .url({ protocol: /^https?$/ })
  .refine((raw) => {
    // zod runs this even when z.url() failed: an unparsable url is that issue's, not a crash here.
    if (!URL.canParse(raw)) return true;
    const u = new URL(raw);
    return (u.pathname === '/' || u.pathname === '') && u.search === '' && u.hash === '';
  }, 'must be an origin (scheme://host:port) without path, query or fragment')
  .transform(lowerScheme);
