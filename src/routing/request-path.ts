/**
 * The path routes match and the node receives: dot segments removed (RFC 3986 §5.2.4), with
 * percent-encoded dots ("%2e") counted as dots, since backends that decode before resolving
 * would otherwise reach what the gateway's route did not match (`/static/../api/x` matching a
 * `/static/` route). A path that would climb above the root is refused, not clamped: a client
 * that sends one is probing. So is one that hides a dot segment behind an encoded slash or a
 * backslash (`/static/..%2fapi/x`), which backends that decode or read "\\" as "/" would resolve;
 * an encoded slash in data (`/projects/group%2Fname`) is forwarded as it is.
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
  const kept: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const dots = dotSegment(segment);
    if (dots === 0) {
      if (hidesDotSegment(segment)) return null;
      kept.push(segment);
      continue;
    }
    if (dots === 2) {
      if (kept.length === 0) return null;
      kept.pop();
    }
    // A path ending in a dot segment names a directory: "/a/b/.." is "/a/".
    if (i === segments.length - 1) kept.push('');
  }
  return `/${kept.join('/')}`;
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
