import type { LookupFunction } from 'node:net';
import type { UpstreamTls } from '../config/upstream-tls-schema.js';
import { pinnedLookup, resolvingLookup, type Resolve } from './resolve.js';
import { nodeHostname, type NameTable } from './node-names.js';

/** How a node is dialled: the same for the acceptors' pools and the coordinator's health checks. */
export interface NodeDial {
  readonly tls: UpstreamTls | undefined;
  /** undefined: the url's host as it is (an IP literal), or Node's own lookup. */
  readonly lookup: LookupFunction | undefined;
  readonly connectTimeoutMs: number;
}

/**
 * Where a node's new connections go: an IP literal as it is; a name to the addresses the
 * coordinator last resolved it to; a name not resolved yet through `fallback` (GATEWAY_DNS_SERVERS),
 * else Node's lookup.
 */
export function nodeLookup(url: string, names: NameTable, fallback: Resolve | null): LookupFunction | undefined {
  const hostname = nodeHostname(url);
  if (hostname === null) return undefined;
  const addresses = names.get(hostname);
  if (addresses !== undefined && addresses.length > 0) return pinnedLookup(addresses);
  return fallback === null ? undefined : resolvingLookup(fallback);
}
