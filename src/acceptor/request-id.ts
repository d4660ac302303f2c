import { randomUuid } from './random-uuid.js';
import type { RequestContext } from './request-context.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What a client's X-Request-Id may be to be kept: up to 128 characters of what ids are made of
 * (UUIDs, ULIDs, base64, dotted or colon-separated parts). Anything else (spaces, quotes, commas,
 * a log-breaking length) is replaced rather than passed on to nodes and logs.
 */
const VALID_REQUEST_ID = /^[A-Za-z0-9._:/+=@~-]{1,128}$/;

/**
 * Settles the request's id (the client's X-Request-Id copied by readRequestHead when valid, else a
 * random UUID), returns it on every answer (the client response writes it on each head) and
 * forwards it to the node (on routes with header compaction too; like the X-Forwarded-* the
 * gateway sets, not counted in their forwarded head bytes). Runs before any answer, errors included.
 */
export function settleRequestId(ctx: RequestContext): void {
  // Most clients send none: no RegExp call for the empty string.
  const id = ctx.requestId !== '' && VALID_REQUEST_ID.test(ctx.requestId) ? ctx.requestId : randomUuid();
  ctx.requestId = id;
  ctx.client.requestId = id;
  ctx.headers.push(REQUEST_ID_HEADER, id);
}
