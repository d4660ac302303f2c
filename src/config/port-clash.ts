import { BlockList, isIP } from 'node:net';
import { ConfigError } from './config-error.js';
import { settingName } from './env-vars.js';
import type { Settings } from './schema.js';

/** What `localhost` resolves to: either, as the resolver and /etc/hosts have it (Node takes the first). */
const LOCALHOST = ['127.0.0.1', '::1'];

/** The addresses a listen host may bind: an IP literal itself, `localhost` either loopback one, another name itself. */
function addressesOf(host: string): string[] {
  const lower = host.toLowerCase();
  return lower === 'localhost' ? LOCALHOST : [lower];
}

/** One IP literal in any spelling (`::1` as `0:0:0:0:0:0:0:1`, `127.0.0.1` as `::ffff:127.0.0.1`), or one name. */
function sameAddress(a: string, b: string): boolean {
  const family = isIP(a);
  if (family === 0 || isIP(b) === 0) return a === b;
  const list = new BlockList();
  list.addAddress(a, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(b, isIP(b) === 4 ? 'ipv4' : 'ipv6');
}

const WILDCARDS = ['0.0.0.0', '::'];

/**
 * Whether two listen hosts may bind the same address, so one port cannot serve both: the same
 * address however spelt, a wildcard beside anything, or `localhost` beside either loopback
 * address. 127.0.0.1 and ::1 are two sockets; a name other than localhost is compared as a name
 * (what it resolves to is known only at start).
 */
export function hostsOverlap(a: string, b: string): boolean {
  const wildcard = (host: string): boolean => WILDCARDS.some((any) => sameAddress(any, host));
  if (wildcard(a) || wildcard(b)) return true;
  return addressesOf(a).some((x) => addressesOf(b).some((y) => sameAddress(x, y)));
}

/** The gateway and admin ports must differ where both listen: found at start-up, the clash would leave the admin server up and the gateway not. */
export function checkPorts(settings: Settings, source: string, overrides: Record<string, unknown>): void {
  if (settings.port === 0 || settings.port !== settings.adminPort || !hostsOverlap(settings.host, settings.adminHost)) return;
  const fieldOf = (key: keyof Settings): string => settingName(key, overrides);
  // Spelt apart, the hosts are named: why two hosts that read as different are one is not obvious.
  const hosts = settings.host === settings.adminHost ? '' : `, and ${fieldOf('host')} = ${JSON.stringify(settings.host)} and ${fieldOf('adminHost')} = ${JSON.stringify(settings.adminHost)} may bind one address`;
  throw new ConfigError(`invalid config (${source}):\n  ${fieldOf('port')} = ${settings.port}: the admin port too (${fieldOf('adminPort')})${hosts}`);
}
