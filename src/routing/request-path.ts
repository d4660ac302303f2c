/**
 * The path routes match and the node receives: dot segments removed (RFC 3986 §5.2.4), with
 * percent-encoded dots ("%2e") counted as dots, since backends that decode before resolving
 * would otherwise reach what the gateway's route did not match (`/static/../api/x` matching a
 * `/static/` route). A path that would climb above the root is refused, not clamped: a client
 * that sends one is probing.
 */

/**
 * The normalized path (the same string when it has no dot segment), or null for what is no path
 * ("*", an absolute URI) or climbs above the root.
 */
export function normalizePath(path: string): string | null {
  if (path.charCodeAt(0) !== 0x2f /* / */) return null;
  // A dot segment starts right after a "/": most paths have none and are returned as they are.
  if (!path.includes('/.') && !path.includes('/%')) return path;
  const segments = path.split('/');
  const kept: string[] = [];
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const dots = dotSegment(segment);
    if (dots === 0) {
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
