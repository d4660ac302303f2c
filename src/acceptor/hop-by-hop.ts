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
 * Headers named in Connection are hop-by-hop too: removes them from a flat [name, value, …] list
 * of strings (requests) or raw Buffers (responses). Rare (most Connection values name no header),
 * so done after the copy rather than during it.
 */
export function dropConnectionTokens(headers: (string | Buffer)[], connection: string): void {
  const named = new Set(connection.split(',').map((t) => t.trim().toLowerCase()));
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    if (named.has(headers[i]!.toString('latin1').toLowerCase())) headers.splice(i, 2);
  }
}
