import { latin1 } from '../upstream/raw-header-names.js';

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

const ALWAYS_DROPPED: ReadonlySet<string> = new Set(HOP_BY_HOP);

/** Named in a request's Connection, still forwarded: an HTTP/1.1 request without Host is invalid (RFC 9112 §3.2). */
const NEVER_DROPPED = 'host';

/**
 * Headers named in Connection are hop-by-hop too, Host excepted: removes them from a flat [name,
 * value, …] list of strings (requests) or raw bytes (responses). Rare (most Connection values name
 * no header), so done after the copy rather than during it; a value naming only headers dropped
 * anyway (a keep-alive node's `Connection: keep-alive`, on every answer) needs no pass over the list.
 */
export function dropConnectionTokens(headers: (string | Uint8Array)[], connection: string): void {
  let named: Set<string> | null = null;
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && name !== NEVER_DROPPED && !ALWAYS_DROPPED.has(name)) (named ??= new Set()).add(name);
  }
  if (named === null) return;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name = headers[i]!;
    if (named.has((typeof name === 'string' ? name : latin1(name)).toLowerCase())) headers.splice(i, 2);
  }
}
