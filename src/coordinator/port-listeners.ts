import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A socket in LISTEN state, as /proc/net/tcp and tcp6 write it ("st" column, hex). */
const TCP_LISTEN = '0A';

/**
 * The inodes of the sockets listening on `port` in a /proc/net/tcp or /proc/net/tcp6 table, on
 * any address: columns are `sl local_address rem_address st ... uid timeout inode`, an address
 * being hex `ADDRESS:PORT`.
 */
export function listeningInodes(table: string, port: number): number[] {
  const inodes: number[] = [];
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== TCP_LISTEN) continue;
    const local = fields[1]!;
    if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.push(Number(fields[9]));
  }
  return inodes;
}

/** The inodes of the sockets this process holds (every thread's: they share one table of fds). */
function ownSocketInodes(): Set<number> {
  const own = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // Closed since the listing (the listing's own fd among them).
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match !== null) own.add(Number(match[1]));
  }
  return own;
}

/**
 * How many sockets of other processes listen on `port` (any address) beside this one's: with
 * SO_REUSEPORT (uWS's bind, another ringgate's) the kernel splits the port's connections between
 * them. null where /proc cannot tell (not Linux).
 */
export function otherListeners(port: number): number | null {
  const tables = ['/proc/net/tcp', '/proc/net/tcp6'].map(readTable).filter((table) => table !== null);
  if (tables.length === 0) return null;
  let own: Set<number>;
  try {
    own = ownSocketInodes();
  } catch {
    return null;
  }
  return tables.flatMap((table) => listeningInodes(table, port)).filter((inode) => !own.has(inode)).length;
}

/** A table's text, or null where it is missing (no /proc, or IPv6 off for tcp6). */
function readTable(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}
