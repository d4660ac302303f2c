import { Buffer } from 'node:buffer';

/**
 * The path the node receives: dot segments removed (RFC 3986 §5.2.4), with percent-encoded dots
 * ("%2e") counted as dots, since backends that decode before resolving would otherwise reach what
 * the gateway's route did not match (`/static/../api/x` matching a `/static/` route). A path that
 * would climb above the root is refused, not clamped: a client that sends one is probing. So is
 * one that hides a dot segment behind an encoded slash or a backslash (`/static/..%2fapi/x`), or
 * behind path parameters (`/static/..;/api/x`, which Tomcat and Jetty resolve), which backends
 * would resolve. So is one with a "#": a fragment is no part of a request target (RFC 9112 §3.2),
 * and backends that parse the target as a URL (WHATWG URL, Node's url.parse, nginx) end the path
 * there, so `/api/login#` would be read as `/api/login` by a node the gateway routed by another
 * route. A leading run of slashes and backslashes becomes one slash: to a backend that parses the
 * target as a URL, `//public/api/x` (or `/\public/api/x`) is scheme-relative, host `public` and path
 * `/api/x`, which the gateway routed as `/public/`. Otherwise it keeps the client's spelling:
 * routingPath() gives the form routes match.
 */

/** What some backends take for a path separator: %2F, %5C, and a raw backslash. */
const HIDDEN_SEPARATOR = /%2f|%5c|\\/i;
const LEADING_SEPARATORS = /^[/\\]+/;

/**
 * The normalized path (the same string when it has no dot segment), or null for what is no path
 * ("*", an absolute URI), climbs above the root, or hides a dot segment.
 */
export function normalizePath(target: string): string | null {
  if (target.charCodeAt(0) !== 0x2f /* / */) return null;
  if (target.includes('#')) return null;
  const path = oneLeadingSlash(target);
  // Most paths hold no "/.", no "%" and no backslash: they are returned as they are.
  if (!path.includes('/.') && !path.includes('%') && !path.includes('\\')) return path;
  const segments = path.split('/');
  const last = segments.length - 1;
  const kept: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const dots = dotSegment(segment);
    if (dots === 0) {
      if (hidesDotSegment(segment) || dotSegmentWithParameters(segment)) return null;
      kept.push(segment);
      continue;
    }
    if (dots === 2) {
      if (kept.length === 0) return null;
      kept.pop();
    }
    // A path ending in a dot segment names a directory: "/a/b/.." is "/a/".
    if (i === last) kept.push('');
  }
  // Again: a dot segment removed may leave a run at the front (`/.//public/x`, `/a/..//public/x`).
  return oneLeadingSlash(`/${kept.join('/')}`);
}

/** A leading run of slashes and backslashes as one slash (normalizePath). */
function oneLeadingSlash(path: string): string {
  const second = path.charCodeAt(1);
  return second === 0x2f /* / */ || second === 0x5c /* \ */ ? path.replace(LEADING_SEPARATORS, '/') : path;
}

/**
 * The form routes match (and configured route paths are compiled to): one for each of the
 * spellings backends read alike, so that no spelling a backend reads as `/api/x` passes a route
 * that did not match `/api/` (`/%61pi/x`, `//api/x`). Percent-encoded unreserved characters are
 * decoded and other encodings' hex digits upper-cased (RFC 3986 §6.2.2), characters past ASCII
 * percent-encoded as UTF-8 (RFC 3987 §3.1, as WHATWG URL does: `/café/` and `/caf%C3%A9/` are one
 * path to a backend), a backslash read as "/" (as WHATWG URL reads it: `/admin\x` is
 * `/admin/x` to such a backend), empty segments merged (as nginx matches locations; a trailing "/"
 * stays). `path` has had its dot segments removed.
 */
export function routingPath(path: string): string {
  const nonAscii = NON_ASCII.test(path);
  const backslash = path.includes('\\');
  if (!nonAscii && !backslash && !path.includes('%') && !path.includes('//')) return path;
  const segments = (backslash ? path.replace(BACKSLASHES, '/') : path).split('/');
  const last = segments.length - 1;
  const kept: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '' && i < last) continue;
    const decoded = segment.includes('%') ? decodeUnreserved(segment) : segment;
    kept.push(nonAscii ? encodeNonAscii(decoded) : decoded);
  }
  return `/${kept.join('/')}`;
}

const NON_ASCII = /[^\x00-\x7f]/;
const NON_ASCII_RUN = /[^\x00-\x7f]+/g;
const BACKSLASHES = /\\/g;

/** Characters past ASCII as their UTF-8 bytes, percent-encoded with upper-case hex digits. */
function encodeNonAscii(segment: string): string {
  return segment.replace(NON_ASCII_RUN, (run: string) => {
    let encoded = '';
    // Buffer, not encodeURIComponent: a lone surrogate (which uWS never hands over) must not throw here.
    for (const byte of Buffer.from(run, 'utf8')) encoded += `%${byte.toString(16).toUpperCase()}`; // every byte of a character past ASCII is 0x80 or more
    return encoded;
  });
}

/** Percent-encoded unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~") decoded; other encodings' hex digits upper-cased. */
function decodeUnreserved(segment: string): string {
  return segment.replace(/%([0-9A-Fa-f]{2})/g, (encoding: string, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : encoding.toUpperCase();
  });
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** "..;x" or ".;x": a dot segment with path parameters, which some backends strip before they resolve it. */
function dotSegmentWithParameters(segment: string): boolean {
  const parameters = segment.indexOf(';');
  return parameters >= 0 && dotSegment(segment.slice(0, parameters)) !== 0;
}

/** 1 for ".", 2 for "..", with any dot written as %2e or %2E; else 0. */
function dotSegment(segment: string): 0 | 1 | 2 {
  if (segment.length === 0 || segment.length > 6) return 0;
  const decoded = segment.length === 1 || segment === '..' ? segment : segment.replace(/%2e/gi, '.');
  return decoded === '.' ? 1 : decoded === '..' ? 2 : 0;
}

/** The segment holds a dot segment once split at what some backends read as a separator. */
function hidesDotSegment(segment: string): boolean {
  if (!HIDDEN_SEPARATOR.test(segment)) return false;
  for (const piece of segment.split(HIDDEN_SEPARATOR)) if (dotSegment(piece) !== 0) return true;
  return false;
}
