// Which reads of a multiplexing route may share one call (issue 12), and which answers they may share.
import { FreshNameSet, type NameSet } from '../name-set.js';
import type { RawFields } from '../upstream/raw-fields.js';
import type { RequestContext } from './request-context.js';

/**
 * An answer that must not reach anyone but its own client: it sets a cookie, says private or
 * no-store, or varies on a request header the key does not hold (Vary: *, or one outside `vary`).
 */
export function shareable(fields: RawFields, vary: NameSet): boolean {
  const spans = fields.spans;
  for (let s = 0; s < spans.length; s += 4) {
    const name = fields.text(spans[s]!, spans[s + 1]!).toLowerCase();
    if (name === 'set-cookie') return false;
    if (name !== 'cache-control' && name !== 'vary') continue;
    const value = fields.text(spans[s + 2]!, spans[s + 3]!).toLowerCase();
    if (name === 'cache-control' && (value.includes('private') || value.includes('no-store'))) return false;
    if (name === 'vary' && value.split(',').some((field) => !vary.has(field.trim()))) return false;
  }
  return true;
}

/** Requests whose answer depends on what the client holds (a range, a validator): never shared. */
const CONDITIONAL = new FreshNameSet(['range', 'if-range', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since']);

/**
 * What makes two reads the same: method, Host, normalized target, tenant, and the values of the
 * route's vary headers among those forwarded (one not forwarded cannot change the answer). Null
 * for a range or conditional request, which is never shared.
 */
export function requestKey(ctx: RequestContext, vary: NameSet): string | null {
  let key = `${ctx.method}\n${ctx.host}\n${ctx.target}\n${ctx.tenant}`;
  const headers = ctx.headers;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (CONDITIONAL.has(name)) return null;
    if (vary.has(name)) key += `\n${name}:${headers[i + 1]}`;
  }
  return key;
}
