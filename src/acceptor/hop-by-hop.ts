import { HOP_BY_HOP } from '../routing/unforwarded-headers.js';

const ALWAYS_DROPPED: ReadonlySet<string> = new Set(HOP_BY_HOP);
const KEEP_ALIVE = 'keep-alive' satisfies (typeof HOP_BY_HOP)[number];

/**
 * Named in a request's Connection, still forwarded: an HTTP/1.1 request without Host is invalid
 * (RFC 9112 §3.2), and the gateway retries a write for its Idempotency-Key only because the node
 * sees the key too.
 */
const NEVER_DROPPED: ReadonlySet<string> = new Set(['host', 'idempotency-key']);

/**
 * Headers named in Connection are hop-by-hop too, Host excepted: the lowercase names of those that
 * are not dropped anyway, or null when there are none (a keep-alive node's `Connection: keep-alive`,
 * on every answer). Rare, so removed after the copy rather than during it.
 */
export function connectionNamed(connection: string): ReadonlySet<string> | null {
  // What most HTTP/1.1 clients send on every request: it names nothing kept, known without a split and its array.
  if (connection.length === KEEP_ALIVE.length && connection.toLowerCase() === KEEP_ALIVE) return null;
  let named: Set<string> | null = null;
  for (const token of connection.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && !NEVER_DROPPED.has(name) && !ALWAYS_DROPPED.has(name)) (named ??= new Set()).add(name);
  }
  return named;
}

/**
 * Removes the headers `connection` names (connectionNamed) from a request's flat [name, value, …]
 * list, but those in `readByGateway` (the tenant header, a route's hash header): what routed and
 * counted the request must reach its node, or a client could be one tenant to the gateway and
 * none to the node (and share a multiplexed answer computed so).
 */
export function dropConnectionTokens(headers: string[], connection: string, readByGateway: readonly string[] = []): void {
  const named = connectionNamed(connection);
  if (named === null) return;
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    const name = headers[i]!.toLowerCase();
    if (named.has(name) && !readByGateway.includes(name)) headers.splice(i, 2);
  }
}
