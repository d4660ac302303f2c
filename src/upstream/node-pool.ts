import { Buffer } from 'node:buffer';
import type { LookupFunction } from 'node:net';
import { buildConnector, Pool, type Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/load.js';
import { unverifiedTlsClusters, type UpstreamTls } from '../config/upstream-tls-schema.js';
import type { Logger } from '../log.js';
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
  const addresses = names[hostname];
  if (addresses !== undefined && addresses.length > 0) return pinnedLookup(addresses);
  return fallback === null ? undefined : resolvingLookup(fallback);
}

const PAST_ASCII = /[^\x00-\x7f]/;

/**
 * `text` as the client's bytes, one character each: undici writes a head's strings as latin1 (and
 * refuses a character past 0xff), where uWS read the client's bytes as UTF-8. U+FFFD stays, for
 * undici to refuse (400 ERR_BAD_HEADER): uWS put it where the bytes were not UTF-8, and what they
 * were is lost. The own client does the same as it writes (h1/request-head.ts).
 */
function clientBytes(text: string): string {
  return PAST_ASCII.test(text) && !text.includes('\ufffd') ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/**
 * A node's pool that hands undici the target and header values as the client's bytes
 * (clientBytes), in a copy: the request itself stays as it is, for a retry.
 */
class NodePool extends Pool {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const headers = options.headers;
    // The gateway's own requests (health checks) carry no list and nothing a client sent.
    if (!Array.isArray(headers)) return super.dispatch(options, handler);
    let converted: string[] | null = null;
    for (let i = 1; i < headers.length; i += 2) {
      const value = clientBytes(headers[i]!);
      if (value !== headers[i]) (converted ??= [...headers])[i] = value;
    }
    const path = clientBytes(options.path);
    return super.dispatch(converted === null && path === options.path ? options : { ...options, path, headers: converted ?? headers }, handler);
  }
}

/**
 * An https node's pool. undici takes a request's SNI from its Host header (here the client's) and
 * closes a connection whenever that name changes; every request of this pool carries the node's
 * own name instead, so connections stay up whatever Host the clients send.
 */
class HttpsNodePool extends NodePool {
  readonly #servername: string;

  constructor(origin: string, servername: string, options: Pool.Options) {
    super(origin, options);
    this.#servername = servername;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    (options as { servername?: string }).servername = this.#servername;
    return super.dispatch(options, handler);
  }
}

/**
 * A keep-alive pool for the node at `origin`. For https: the cluster's CA bundle, client
 * certificate and verification; SNI and the name its certificate must carry are the cluster's
 * `servername`, else the url's host when it is a name, none for an IP.
 */
export function createNodePool(origin: string, dial: NodeDial, options: Omit<Pool.Options, 'connect'>): Pool {
  const https = origin.startsWith('https:');
  const { tls } = dial;
  const connector = buildConnector({
    timeout: dial.connectTimeoutMs,
    ...(dial.lookup !== undefined && { lookup: dial.lookup }),
    ...(https &&
      tls !== undefined && {
        rejectUnauthorized: tls.verify,
        ...(tls.servername !== undefined && { servername: tls.servername }),
        ...(tls.ca !== undefined && { ca: tls.ca }),
        ...(tls.cert !== undefined && { cert: tls.cert, key: tls.key }),
      }),
  });
  if (!https) return new NodePool(origin, { ...options, connect: connector });
  // The per-request name HttpsNodePool sets only keeps connections up: the connector ignores it.
  const connect: buildConnector.connector = (opts, callback) => connector({ ...opts, servername: undefined }, callback);
  return new HttpsNodePool(origin, tls?.servername ?? new URL(origin).hostname, { ...options, connect });
}

/** Start-up and every reload: each cluster whose certificates go unchecked is named in a warning. */
export function warnUnverifiedTls(config: GatewayConfig, log: Logger): void {
  for (const cluster of unverifiedTlsClusters(config.clusters)) {
    log.warn({ cluster }, 'upstream TLS certificates of this cluster are not verified (tls.verify false): anyone on the path can pose as its nodes');
  }
}
