/**
 * A URL as an error may show it: its password (redis://user:password@host) never reaches a log.
 * Everything up to the last "@" is the user part, whatever it holds: a password with a "/" (as
 * base64 keys have) makes the URL unparsable, and is the one shown in that error.
 */
export function withoutPassword(url: string): string {
  // A password in the query too (ioredis reads `password`, `sentinelPassword`, …).
  const queried = url.replace(/([?&][^=&]*password=)[^&]*/gi, '$1***');
  // No scheme (`user:password@host`, `://` forgotten): the user part starts the text.
  const scheme = queried.indexOf('://');
  const start = scheme < 0 ? 0 : scheme + 3;
  const at = queried.lastIndexOf('@');
  if (at < start) return queried;
  const colon = queried.indexOf(':', start);
  // No colon: the whole user part may be the password (redis://password@host).
  const user = colon >= 0 && colon < at ? queried.slice(start, colon) : '';
  return `${queried.slice(0, start)}${user === '' ? '' : `${user}:`}***${queried.slice(at)}`;
}
