/**
 * A Host header value must be `host[:port]` (RFC 9110 §7.2, RFC 3986 §3.2.2): a reg-name or IPv4
 * address (unreserved, pct-encoded and sub-delims characters), or an IP-literal in brackets, then
 * an optional port. Anything else (spaces, "/", "@", an empty value) is refused rather than
 * forwarded, since backends and logs read it as the authority.
 */
import { isIPv6 } from 'node:net';

const REG_NAME_AND_PORT = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+(?::(\d{1,5}))?$/;
const IP_LITERAL_AND_PORT = /^\[([^\]]+)\](?::(\d{1,5}))?$/;
const IP_FUTURE = /^v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/;

const MAX_PORT = 65535;

export function isValidHost(value: string): boolean {
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    const literal = IP_LITERAL_AND_PORT.exec(value);
    if (literal === null) return false;
    const address = literal[1]!;
    // A zone id ("%25eth0") names an interface of the client's host: meaningless here, so refused.
    const ipv6 = isIPv6(address) && !address.includes('%');
    return (ipv6 || IP_FUTURE.test(address)) && validPort(literal[2]);
  }
  const named = REG_NAME_AND_PORT.exec(value);
  return named !== null && validPort(named[1]);
}

/** An absent port is fine; a present one must be 0-65535 (1-5 digits, as the patterns capture). */
function validPort(port: string | undefined): boolean {
  return port === undefined || Number(port) <= MAX_PORT;
}
