import { Buffer } from 'node:buffer';
import type { HttpRequest } from 'uWebSockets.js';
import type { AnsweredCode } from '../errors.js';
import type { RequestContext } from './request-context.js';
import { FreshNameKinds, type NameSet } from '../name-set.js';
import { fromTrustedProxy, type TrustCheck } from './forwarded-headers.js';
import { dropConnectionTokens } from './hop-by-hop.js';
import { DROPPED_REQUEST_HEADERS, PROXY_CLAIM_NAMES } from '../routing/unforwarded-headers.js';
import { decimalValue } from '../decimal.js';

const DROP = 1;
/** Copied from a trusted proxy only (forwarded-headers.ts): its address is checked once a request has one. */
const PROXY_CLAIM = 2;
const HEADER_KINDS = new FreshNameKinds([...DROPPED_REQUEST_HEADERS.map((name) => [name, DROP] as const), ...PROXY_CLAIM_NAMES.map((name) => [name, PROXY_CLAIM] as const)]);

/** ctx.idempotencyKey of a request that sent the header twice: no value a header can hold (uWS refuses a line feed in one). */
export const IDEMPOTENCY_KEY_REPEATED = '\n';

/** uWS frames bodies only by 1 to 9 digits: a longer length must never be dispatched upstream. */
const UWS_LENGTH_DIGITS = 9;

// " HTTP/1.1\r\n" after the target, ": " and "\r\n" per header line, the final "\r\n".
const REQUEST_LINE_OVERHEAD = 11;
const HEADER_LINE_OVERHEAD = 4;

/**
 * Copies the head out of uWS's request into `ctx` in one pass and rejects what a backend could read
 * differently from us (RFC 9112 §6.3): differing or malformed Content-Length, any Transfer-Encoding
 * other than exactly one "chunked", both at once; zero or several Host headers; a head over the
 * limit. uWS itself already closes the connection on malformed lines, obs-fold, a missing Host, and
 * Content-Length together with Transfer-Encoding; these checks are the rest. `path` is what the
 * request forwards (normalized by the caller); the bytes counted are those the client sent. With
 * `forwarded` (header compaction) only the headers it names (and the tenant and hash headers) are
 * copied, and their bytes counted. X-Real-IP and the like are copied only from `trusts`' proxies.
 */
export function readRequestHead(
  ctx: RequestContext,
  req: HttpRequest,
  rawPath: string,
  path: string,
  tenantHeader: string,
  hashHeader: string,
  maxHeaderBytes: number,
  forwarded: NameSet | null,
  trusts: TrustCheck | null,
): AnsweredCode | null {
  const method = req.getCaseSensitiveMethod();
  const query = req.getQuery();
  ctx.method = method;
  ctx.client.headRequest = method === 'HEAD';
  ctx.path = path;
  ctx.target = query ? `${path}?${query}` : path;
  let bytes = method.length + 1 + rawPath.length + (query ? query.length + 1 : 0) + REQUEST_LINE_OVERHEAD + 2;
  let hosts = 0;
  let tenants = 0;
  let requestIds = 0;
  let idempotencyKeys = 0;
  let framing = false;
  let connectionTokens: string | undefined;
  /** Whether X-Real-IP and the like are kept: decided on the first of them. */
  let claimsKept: boolean | undefined;
  let forwardedBytes = bytes;
  const headers = ctx.headers;

  req.forEach((name, value) => {
    bytes += name.length + value.length + HEADER_LINE_OVERHEAD;
    if (name === tenantHeader) {
      tenants++;
      ctx.tenant = value;
    }
    if (name === hashHeader) ctx.hashHeaderValue = value;
    switch (name) {
      case 'host':
        hosts++;
        ctx.host = value;
        break;
      case 'content-length': {
        // A malformed one is kept as -2, not -1 (none sent): a second line is then no first one.
        const digits = decimalValue(value, UWS_LENGTH_DIGITS);
        const length = digits < 0 ? -2 : digits;
        if (length === -2 || (ctx.contentLength !== -1 && ctx.contentLength !== length)) framing = true;
        // Identical repeats are allowed (RFC 9110 §8.6) and forwarded once.
        if (ctx.contentLength !== -1) return;
        ctx.contentLength = length;
        break;
      }
      case 'transfer-encoding':
        if (ctx.chunked || value.toLowerCase() !== 'chunked') framing = true;
        ctx.chunked = true;
        return;
      case 'connection':
        // A list that may span several field lines (RFC 9110 §5.3).
        connectionTokens = connectionTokens === undefined ? value : `${connectionTokens}, ${value}`;
        return;
      case 'x-request-id':
        requestIds++;
        ctx.requestId = value;
        return;
      case 'idempotency-key':
        idempotencyKeys++;
        ctx.idempotencyKey = value;
        break;
      case 'x-forwarded-for':
        ctx.forwardedFor = ctx.forwardedFor ? `${ctx.forwardedFor}, ${value}` : value;
        return;
      case 'x-forwarded-proto':
        // A chain of proxies may list schemes; the last is the hop before us.
        ctx.forwardedProto = value.slice(value.lastIndexOf(',') + 1).trim().toLowerCase();
        return;
      case 'forwarded':
        ctx.forwarded = ctx.forwarded ? `${ctx.forwarded}, ${value}` : value;
        return;
    }
    const kind = HEADER_KINDS.kind(name);
    if (kind === DROP) return;
    if (kind === PROXY_CLAIM && !(claimsKept ??= fromTrustedProxy(ctx, trusts))) return;
    if (forwarded === null) {
      headers.push(name, value);
    } else if (forwarded.has(name) || name === tenantHeader || name === hashHeader) {
      // What routed the request reaches its node whatever the route's list says (hop-by-hop.ts).
      headers.push(name, value);
      forwardedBytes += name.length + value.length + HEADER_LINE_OVERHEAD;
    }
  });
  // Two of them name no one request: a new id is made (request-id.ts).
  if (requestIds > 1) ctx.requestId = '';
  // Sent twice, empty or not, it names no one key (the node would see both): a route that keys writes refuses it.
  if (idempotencyKeys > 1) ctx.idempotencyKey = IDEMPOTENCY_KEY_REPEATED;
  // uWS gives the head decoded from UTF-8, up to 3 bytes a UTF-16 unit: a head that may be over
  // the limit in bytes is counted again in bytes (rare: at the default limit, one over 5.4 KB).
  if (bytes <= maxHeaderBytes && bytes * 3 > maxHeaderBytes) {
    const line = utf8RequestLineBytes(method, rawPath, query);
    bytes = utf8HeadBytes(req, line);
    // The same unit for both sides of ringgate_request_header_bytes_total: what was copied, in bytes.
    if (forwarded !== null) forwardedBytes = utf8FieldBytes(headers, line);
  }
  ctx.headBytes = bytes;
  if (forwarded !== null) ctx.forwardedHeadBytes = forwardedBytes;

  if (bytes > maxHeaderBytes) return 'ERR_HEADERS_TOO_LARGE';
  // A node's 2xx to CONNECT makes its connection a tunnel (RFC 9112 §6.3): never to be pooled. TRACE
  // echoes the request, cookies and credentials included, and Max-Forwards asks each hop to count
  // it down: refused, as nginx refuses it.
  if (method === 'CONNECT' || method === 'TRACE') return 'ERR_METHOD_NOT_SUPPORTED';
  if (framing || (ctx.chunked && ctx.contentLength !== -1)) return 'ERR_BAD_FRAMING';
  if (hosts !== 1) return 'ERR_BAD_HOST';
  if (tenants > 1) return 'ERR_INVALID_TENANT';
  if (connectionTokens !== undefined) dropConnectionTokens(headers, connectionTokens, [tenantHeader, hashHeader]);
  return null;
}

/** The request line and the head's final CRLF, in the bytes the client sent. */
function utf8RequestLineBytes(method: string, rawPath: string, query: string): number {
  return method.length + 1 + Buffer.byteLength(rawPath) + (query ? Buffer.byteLength(query) + 1 : 0) + REQUEST_LINE_OVERHEAD + 2;
}

/** The head's size in the bytes the client sent (readRequestHead counts UTF-16 units). */
function utf8HeadBytes(req: HttpRequest, lineBytes: number): number {
  let bytes = lineBytes;
  req.forEach((name, value) => {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + HEADER_LINE_OVERHEAD;
  });
  return bytes;
}

/** The copied header lines' size in bytes, as `utf8HeadBytes` counts the client's. */
function utf8FieldBytes(fields: readonly string[], lineBytes: number): number {
  let bytes = lineBytes;
  for (let i = 0; i < fields.length; i += 2) bytes += Buffer.byteLength(fields[i]!) + Buffer.byteLength(fields[i + 1]!) + HEADER_LINE_OVERHEAD;
  return bytes;
}
