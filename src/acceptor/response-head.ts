import { dropConnectionTokens, HOP_BY_HOP } from './hop-by-hop.js';
import { latin1, RawHeaderNames } from '../upstream/raw-header-names.js';
import type { RequestContext } from './request-context.js';

/**
 * Response headers that are hop-by-hop, that uWS writes itself (Content-Length, Date), or that the
 * client response writes itself (X-Request-Id: the client gets the id it is known by here).
 */
const RESPONSE_DROPPED = new RawHeaderNames([...HOP_BY_HOP, 'content-length', 'date', 'x-request-id']);

/** The Connection value of a keep-alive node's every answer: it names no header that is not dropped already. */
const KEEP_ALIVE = new RawHeaderNames(['keep-alive']);

/**
 * A Content-Length value both clients checked (digits, or a list repeating one number): the
 * number its leading digits spell, read without a string. Number() of the text made a list NaN,
 * which uWS wrote as a length of 2^63.
 */
function checkedLength(value: Uint8Array): number {
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    length = length * 10 + digit;
  }
  return length;
}

/**
 * Copies a node's response head into `headers` (raw [name, value, …] bytes) as the client gets
 * it: without hop-by-hop headers (and those Connection names), Content-Length, Date or X-Request-Id. Notes the
 * cluster's cache header in `ctx.cacheHit`. Returns the declared Content-Length, or -1.
 */
export function forwardResponseHead(ctx: RequestContext, rawHeaders: Uint8Array[], headers: Uint8Array[]): number {
  let totalSize = -1;
  let connection: string | undefined;
  const cache = ctx.plan!.cacheHeader;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (cache !== null && cache.name.find(name) !== null) {
      ctx.cacheHit = latin1(rawHeaders[i + 1]!).toUpperCase().startsWith(cache.hit) ? 1 : 0;
    }
    const dropped = RESPONSE_DROPPED.find(name);
    if (dropped === null) headers.push(name, rawHeaders[i + 1]!);
    else if (dropped === 'content-length') totalSize = checkedLength(rawHeaders[i + 1]!);
    else if (dropped === 'connection' && KEEP_ALIVE.find(rawHeaders[i + 1]!) === null) connection = latin1(rawHeaders[i + 1]!);
  }
  if (connection !== undefined) dropConnectionTokens(headers, connection);
  return totalSize;
}
