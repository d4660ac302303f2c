import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * A DNS server as dns.Resolver#setServers takes it: an IPv4 address with an optional port
 * (`10.0.0.2`, `10.0.0.2:5353`), an IPv6 address, or one in brackets with a port (`[fd00::2]:53`).
 */
const dnsServerSchema = z.string().refine((text) => {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  const v4 = /^([\d.]+)(?::(\d{1,5}))?$/.exec(text);
  const [address, port] = bracketed !== null ? [bracketed[1]!, bracketed[2]] : v4 !== null ? [v4[1]!, v4[2]] : [text, undefined];
  const family = isIP(address);
  return family !== 0 && (v4 === null || family === 4) && (port === undefined || (Number(port) >= 1 && Number(port) <= 65535));
}, 'must be an IP address, optionally with a port (10.0.0.2:53, [fd00::2]:53)');

/**
 * How node urls with host names are resolved (issue 14): every GATEWAY_DNS_TTL_MS by the
 * coordinator, never per request or per connection. Spread into schema.ts's settings.
 */
export const upstreamNameSettings = {
  /** How often every host name of a node url is resolved again; a changed address moves new connections to it. */
  dnsTtlMs: z.number().int().min(100).max(24 * 3600 * 1000).default(30_000),
  /** DNS servers asked instead of the system's resolver (nginx's `resolver`); empty: the system's (getaddrinfo, /etc/hosts). */
  dnsServers: z.array(dnsServerSchema).max(16).default([]),
};

/** Their env vars, spread into schema.ts's ENV_VARS. */
export const UPSTREAM_NAME_ENV_VARS = {
  GATEWAY_DNS_TTL_MS: { key: 'dnsTtlMs', kind: 'int' },
  GATEWAY_DNS_SERVERS: { key: 'dnsServers', kind: 'list' },
} as const;
