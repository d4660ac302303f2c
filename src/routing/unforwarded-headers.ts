/**
 * Request headers a node never gets as the client sent them, whatever a route's forwardHeaders
 * say: the head's copy (acceptor/request-head.ts) leaves them out, and the config refuses a rate
 * limit by one (config/route-schema.ts). The hop-by-hop ones leave answers too (acceptor/response-head.ts).
 */

/** Hop-by-hop headers (RFC 9110 §7.6.1): never forwarded, in either direction. */
export const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
] as const;

/**
 * Hop-by-hop headers, the X-Forwarded-* and x-ringgate-attempt the gateway sets itself (a node
 * must be able to trust them; X-Forwarded-For / -Proto and Forwarded are read apart, for
 * acceptor/forwarded-headers.ts), and Expect: uWS answers "100 Continue" to the client itself, and
 * undici refuses to send Expect upstream (the upload then failed as a 502; curl sends it for
 * every body over 1 MiB). The upstream gets the whole body as a plain request, as nginx does.
 * X-Original-URL, X-Rewrite-URL, X-Original-URI and X-Forwarded-Uri too, from anyone: nodes that
 * serve the path they name instead of the target's would bypass the route the gateway matched.
 */
export const DROPPED_REQUEST_HEADERS: readonly string[] = [...HOP_BY_HOP, 'x-forwarded-host', 'x-ringgate-attempt', 'expect', 'x-original-url', 'x-rewrite-url', 'x-original-uri', 'x-forwarded-uri'];

/**
 * What a client says of its address, scheme, port or path prefix in headers nodes trust as a
 * proxy's (nginx's X-Real-IP, Spring's X-Forwarded-Port and -Prefix, CDNs' client-IP headers):
 * kept from a trusted proxy only, as X-Forwarded-For is: the head's copy (acceptor/request-head.ts)
 * leaves them out for anyone else, before a rate limit counts by one or a multiplexed read is keyed
 * by one.
 */
export const PROXY_CLAIM_NAMES = [
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-forwarded',
  'forwarded-for',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-ssl',
  'x-forwarded-scheme',
];
