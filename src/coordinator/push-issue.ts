import type { z } from 'zod';
import { withoutPassword } from '../config/redact.js';

/** How much of a bad value a push's error shows: enough to know it, never a whole 8 MiB body. */
const SHOWN_CHARS = 64;

/**
 * A value of a push as its error shows it, as config errors show theirs: JSON, cut after about
 * SHOWN_CHARS characters (a cut string says how long it was), a url's password masked. The work
 * is bounded by what is shown, however large or deep the value.
 */
export function shownValue(value: unknown, key?: string): string {
  return value === undefined ? 'missing' : preview(value, key, SHOWN_CHARS);
}

function preview(value: unknown, key: string | undefined, room: number): string {
  if (typeof value === 'string') {
    // Masked before it is cut: a cut could otherwise fall between the password and its "@".
    const text = key === 'url' ? withoutPassword(value) : value;
    return text.length <= room ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, Math.max(room, 8)))}… (${text.length} characters)`;
  }
  if (typeof value !== 'object' || value === null) return String(JSON.stringify(value));
  const parts: string[] = [];
  let left = room - 2;
  let cut = false;
  // for…in, stopped once the room is spent: the parts shown are made for the first few keys only.
  for (const k in value) {
    if (left <= 0) {
      cut = true;
      break;
    }
    const item = (value as Record<string, unknown>)[k];
    // An array's items are of its key: a list of urls is masked as one url is.
    const part = Array.isArray(value) ? preview(item, key, left) : `${preview(k, undefined, left)}:${preview(item, k, left)}`;
    parts.push(part);
    left -= part.length + 1;
  }
  const inner = cut ? [...parts, '…'].join(',') : parts.join(',');
  return Array.isArray(value) ? `[${inner}]` : `{${inner}}`;
}

/** What the body holds at `path`; undefined where it holds nothing (inherited names are nothing). */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let at: unknown = body;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

/**
 * A push's schema issue as `field = value: why`: the field as a dotted path, `(body)` for the
 * whole; an unknown key is named as a field of its own, with its value.
 */
export function describeIssue(issue: z.core.$ZodIssue, body: unknown): string {
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = unknownKey === undefined ? issue.path : [...issue.path, unknownKey];
  const field = path.map(String).join('.') || '(body)';
  // The key the value is of: an array's item (`url.0`) is of its array's.
  const key = path.findLast((segment): segment is string => typeof segment === 'string');
  return `${field} = ${shownValue(valueAt(body, path), key)}: ${unknownKey === undefined ? issue.message : 'unknown key'}`;
}
