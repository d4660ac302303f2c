import { connectionNamed } from './hop-by-hop.js';
import { HOP_BY_HOP } from '../routing/unforwarded-headers.js';
import { RawHeaderNames } from '../upstream/raw-header-names.js';
import type { RawFields } from '../upstream/raw-fields.js';
import type { RequestContext } from './request-context.js';

/**
 * Response headers that are hop-by-hop, that uWS writes itself (Content-Length, Date), or that the
 * client response writes itself (X-Request-Id: the client gets the id it is known by here).
 */
const RESPONSE_DROPPED = new RawHeaderNames([...HOP_BY_HOP, 'content-length', 'date', 'x-request-id']);

/** The Connection value of a keep-alive node's every answer: it names no header that is not dropped already. */
const KEEP_ALIVE = new RawHeaderNames(['keep-alive']);

/**
 * A Content-Length value both clients checked (digits, or a list repeating one number), `bytes`
 * from `start` to `end`: the number its leading digits spell, read without a string. Number() of
 * the text made a list NaN, which uWS wrote as a length of 2^63.
 */
function checkedLength(bytes: Uint8Array, start: number, end: number): number {
  let length = 0;
  for (let i = start; i < end; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) break;
    length = length * 10 + digit;
  }
  return length;
}

/**
 * Makes a node's answer's fields those the client gets, in place: without hop-by-hop headers (and
 * those Connection names), Content-Length, Date or X-Request-Id, nor those the route's own rate
 * limit or idempotency write (ownAnswerHeaders). Notes the cluster's cache header
 * in `ctx.cacheHit`. Returns the declared Content-Length, or -1.
 */
export function forwardResponseHead(ctx: RequestContext, fields: RawFields): number {
  let totalSize = -1;
  let connection: string | undefined;
  const { cacheHeader: cache, ownAnswerHeaders: own } = ctx.plan!;
  const { bytes, spans } = fields;
  let kept = 0;
  for (let s = 0; s < spans.length; s += 4) {
    const nameStart = spans[s]!;
    const nameEnd = spans[s + 1]!;
    const valueStart = spans[s + 2]!;
    const valueEnd = spans[s + 3]!;
    if (cache !== null && cache.name.find(bytes, nameStart, nameEnd) !== null) {
      ctx.cacheHit = fields.text(valueStart, valueEnd).toUpperCase().startsWith(cache.hit) ? 1 : 0;
    }
    const dropped = RESPONSE_DROPPED.find(bytes, nameStart, nameEnd) ?? own?.find(bytes, nameStart, nameEnd) ?? null;
    if (dropped === null) {
      spans[kept] = nameStart;
      spans[kept + 1] = nameEnd;
      spans[kept + 2] = valueStart;
      spans[kept + 3] = valueEnd;
      kept += 4;
    } else if (dropped === 'content-length') totalSize = checkedLength(bytes, valueStart, valueEnd);
    else if (dropped === 'connection' && KEEP_ALIVE.find(bytes, valueStart, valueEnd) === null) {
      // A list that may span several field lines (RFC 9110 §5.3): each names headers to drop.
      const value = fields.text(valueStart, valueEnd);
      connection = connection === undefined ? value : `${connection}, ${value}`;
    }
  }
  spans.length = kept;
  const named = connection === undefined ? null : connectionNamed(connection);
  if (named !== null) fields.dropNamed(named);
  return totalSize;
}
