/**
 * The path the node receives: dot segments removed (RFC 3986 §5.2.4), with percent-encoded dots
 * ("%2e") counted as dots, since backends that decode before resolving would otherwise reach what
 * the gateway's route did not match (`/static/../api/x` matching a `/static/` route). A path that
 * would climb above the root is refused, not clamped: a client that sends one is probing. So is
 * one that hides a dot segment behind an encoded slash or a backslash (`/static/..%2fapi/x`), or
 * behind path parameters (`/static/..;/api/x`, which Tomcat and Jetty resolve), which backends
 * would resolve. Otherwise it keeps the client's spelling: routingPath() gives the form routes
 * match.
 */

/** What some backends take for a path separator: %2F, %5C, and a raw backslash. */
const HIDDEN_SEPARATOR = /%2f|%5c|\\/i;

/**
 * The normalized path (the same string when it has no dot segment), or null for what is no path
 * ("*", an absolute URI), climbs above the root, or hides a dot segment.
 */
export function normalizePath(path: string): string | null {
  if (path.charCodeAt(0) !== 0x2f /* / */) return null;
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
  return `/${kept.join('/')}`;
}

/**
 * The form routes match (and configured route paths are compiled to): one for each of the
 * spellings backends read alike, so that no spelling a backend reads as `/api/x` passes a route
 * that did not match `/api/` (`/%61pi/x`, `//api/x`). Percent-encoded unreserved characters are
 * decoded and other encodings' hex digits upper-cased (RFC 3986 §6.2.2), empty segments merged
 * (as nginx matches locations; a trailing "/" stays). `path` has had its dot segments removed.
 */
export function routingPath(path: string): string {
  if (!path.includes('%') && !path.includes('//')) return path;
  const segments = path.split('/');
  const last = segments.length - 1;
  const kept: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '' && i < last) continue;
    kept.push(segment.includes('%') ? decodeUnreserved(segment) : segment);
  }
  return `/${kept.join('/')}`;
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
