/**
 * A Host header value must be `host[:port]` (RFC 9110 §7.2, RFC 3986 §3.2.2): a reg-name or IPv4
 * address (unreserved, pct-encoded and sub-delims characters), or an IP-literal in brackets, then
 * an optional port. Anything else (spaces, "/", "@", an empty value) is refused rather than
 * forwarded, since backends and logs read it as the authority.
 */

const REG_NAME_AND_PORT = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+(?::(\d{0,5}))?$/;
const IP_LITERAL_AND_PORT = /^\[([^\]]+)\](?::(\d{0,5}))?$/;
const IP_FUTURE = /^[vV][0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const DEC_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`);

const MAX_PORT = 65535;

export function isValidHost(value: string): boolean {
  if (value.charCodeAt(0) === 0x5b /* [ */) {
    const literal = IP_LITERAL_AND_PORT.exec(value);
    if (literal === null) return false;
    const address = literal[1]!;
    return (isIPv6Address(address) || IP_FUTURE.test(address)) && validPort(literal[2]);
  }
  const named = REG_NAME_AND_PORT.exec(value);
  return named !== null && validPort(named[1]);
}

/** An absent or empty port (`host:`, which RFC 3986 allows) is fine; else 0-65535 in at most 5 digits. */
function validPort(port: string | undefined): boolean {
  return port === undefined || Number(port) <= MAX_PORT;
}

/**
 * RFC 3986's IPv6address: eight 16-bit hex groups, or fewer around one "::", the last two
 * possibly written as an IPv4 address. No zone id: it names an interface of the client's host,
 * which means nothing to the gateway or a backend.
 */
export function isIPv6Address(address: string): boolean {
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const left = halves[0] === '' ? [] : halves[0]!.split(':');
  const right = halves.length === 1 || halves[1] === '' ? [] : halves[1]!.split(':');
  const groups = [...left, ...right];
  // An IPv4 tail must end the address: not stand before a trailing "::".
  const ipv4Allowed = halves.length === 1 || right.length > 0;
  let bits = 0;
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i]!;
    if (HEX_GROUP.test(group)) bits += 16;
    else if (ipv4Allowed && i === groups.length - 1 && IPV4.test(group)) bits += 32;
    else return false;
  }
  return halves.length === 2 ? bits <= 112 : bits === 128;
}
