import type { HttpRequest } from 'uWebSockets.js';
import type { ErrorCode } from '../errors.js';
import { dropConnectionTokens, HOP_BY_HOP } from './hop-by-hop.js';

/** What the pipeline keeps of a request head: uWS's request object dies when the handler returns. */
export interface RequestHead {
  method: string;
  /** Path (no query): what routes match on. */
  path: string;
  /** Path and query, as forwarded upstream. */
  target: string;
  host: string;
  /** Tenant header value, '' when absent. */
  tenant: string;
  /** Value of the route's hash header, if it asked for one and the request had it. */
  hashHeaderValue: string;
  /** -1 when the request has no Content-Length. */
  contentLength: number;
  chunked: boolean;
  /** Forwardable request headers as a flat [name, value, …] list (undici's array form). */
  headers: string[];
  /** Incoming X-Forwarded-For, '' when absent: the client address is appended to it. */
  forwardedFor: string;
}

export type HeadResult = RequestHead | ErrorCode;

/**
 * Hop-by-hop headers, the X-Forwarded-* the gateway sets itself, and Expect: uWS answers
 * "100 Continue" to the client itself, and undici refuses to send Expect upstream (the upload then
 * failed as a 502; curl sends it for every body over 1 MiB). The upstream gets the whole body as a
 * plain request, as nginx does.
 */
const DROPPED = new Set<string>([...HOP_BY_HOP, 'x-forwarded-proto', 'x-forwarded-host', 'expect']);

// " HTTP/1.1\r\n" after the target, ": " and "\r\n" per header line, the final "\r\n".
const REQUEST_LINE_OVERHEAD = 11;
const HEADER_LINE_OVERHEAD = 4;

/**
 * Copies the head out of uWS's request in one pass and rejects what a backend could read
 * differently from us (RFC 9112 §6.3): differing or malformed Content-Length, any Transfer-Encoding
 * other than exactly one "chunked", both at once; zero or several Host headers; a head over the limit.
 * uWS itself already closes the connection on malformed lines, obs-fold, a missing Host, and
 * Content-Length together with Transfer-Encoding; these checks are the rest.
 */
export function readRequestHead(
  req: HttpRequest,
  tenantHeader: string,
  hashHeader: string,
  maxHeaderBytes: number,
): HeadResult {
  const method = req.getCaseSensitiveMethod();
  const path = req.getUrl();
  const query = req.getQuery();
  const target = query ? `${path}?${query}` : path;
  const head: RequestHead = {
    method,
    path,
    target,
    host: '',
    tenant: '',
    hashHeaderValue: '',
    contentLength: -1,
    chunked: false,
    headers: [],
    forwardedFor: '',
  };
  let bytes = method.length + 1 + target.length + REQUEST_LINE_OVERHEAD + 2;
  let hosts = 0;
  let tenants = 0;
  let framing: ErrorCode | undefined;
  let connectionTokens: string | undefined;

  req.forEach((name, value) => {
    bytes += name.length + value.length + HEADER_LINE_OVERHEAD;
    if (name === tenantHeader) {
      tenants++;
      head.tenant = value;
    }
    if (name === hashHeader) head.hashHeaderValue = value;
    switch (name) {
      case 'host':
        hosts++;
        head.host = value;
        break;
      case 'content-length': {
        const length = /^\d{1,15}$/.test(value) ? Number(value) : -2;
        if (length === -2 || (head.contentLength !== -1 && head.contentLength !== length)) framing = 'ERR_BAD_FRAMING';
        // Identical repeats are allowed (RFC 9110 §8.6) and forwarded once.
        if (head.contentLength !== -1) return;
        head.contentLength = length;
        break;
      }
      case 'transfer-encoding':
        if (head.chunked || value.toLowerCase() !== 'chunked') framing = 'ERR_BAD_FRAMING';
        head.chunked = true;
        return;
      case 'connection':
        connectionTokens = value;
        return;
      case 'x-forwarded-for':
        head.forwardedFor = head.forwardedFor ? `${head.forwardedFor}, ${value}` : value;
        return;
    }
    if (!DROPPED.has(name)) head.headers.push(name, value);
  });

  if (bytes > maxHeaderBytes) return 'ERR_HEADERS_TOO_LARGE';
  if (framing !== undefined || (head.chunked && head.contentLength !== -1)) return 'ERR_BAD_FRAMING';
  if (hosts !== 1) return 'ERR_BAD_HOST';
  if (tenants > 1) return 'ERR_INVALID_TENANT';
  if (connectionTokens !== undefined) dropConnectionTokens(head.headers, connectionTokens);
  return head;
}

