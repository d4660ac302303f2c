import { Buffer } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AnsweredCode } from '../errors.js';
import { isLoopback, isLoopbackAddress } from './listen-address.js';

/**
 * Who may call the admin endpoints. Those that change state want the token when one is set, and
 * without one are refused unless the server listens on loopback only; beyond loopback the read
 * endpoints want it too (metrics and tenant ids are not for whoever reaches the port). The
 * dashboard's page, script and stylesheet carry no data: they are served to anyone, and the page
 * sends the token with its reads.
 */
export interface WriteAccess {
  /** GATEWAY_ADMIN_TOKEN: required as `Authorization: Bearer <token>` when set. */
  readonly token: string | undefined;
  /** The admin server listens on loopback only. */
  readonly loopback: boolean;
}

/** A bracketed IPv6 literal, or a name or IPv4 literal, then a port or not. */
const HOST = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::\d{1,5})?$/;

/**
 * A Host value naming a loopback admin server itself: localhost or a loopback IP literal in any
 * spelling ([::ffff:7f00:1] is how a browser writes [::ffff:127.0.0.1]), with a port or not.
 */
function namesLoopback(host: string): boolean {
  const parts = HOST.exec(host.toLowerCase());
  if (parts === null) return false;
  return parts[1] !== undefined ? isLoopbackAddress(parts[1]) : isLoopback(parts[2]!);
}

/**
 * On loopback, a request without the token is trusted for reads (and, without a token set, for
 * writes), and a web page open in the operator's browser reaches it too (the dashboard invites that
 * browser there). Such a page is told apart: a DNS-rebinding page's requests name its own host,
 * and a cross-site POST carries its Origin. A cross-site GET (an <img>, a no-cors fetch) carries no
 * Origin: the page cannot read the answer, but the gateway still does the work (a /metrics scrape
 * costs every acceptor thread a snapshot), as often as the page likes. Browsers say where every
 * request comes from in Sec-Fetch-Site (Fetch Metadata): only the admin server's own page
 * (`same-origin`) and an address the operator typed (`none`) are the operator's; `same-site` is
 * another port of the same host. Clients that are not browsers (curl, a control plane) send none
 * of these. A request with the token is the operator's, whatever page sent it.
 */
export function fromForeignPage(req: IncomingMessage, access: WriteAccess): boolean {
  if (!access.loopback || (access.token !== undefined && refusal(req, access) === null)) return false;
  const host = req.headers.host ?? '';
  if (!namesLoopback(host)) return true;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  return origin !== undefined && origin !== `http://${host}`;
}

/** Why a request may not call an endpoint that wants the token (when one is set), or null when it may. */
export function refusal(req: IncomingMessage, access: WriteAccess): AnsweredCode | null {
  if (access.token === undefined) return access.loopback ? null : 'ERR_ADMIN_FORBIDDEN';
  // Digests of equal length: the comparison's time tells nothing, not even the token's length.
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(req.headers.authorization ?? ''), digest(`Bearer ${access.token}`)) ? null : 'ERR_ADMIN_UNAUTHORIZED';
}
