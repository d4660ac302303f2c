import { createSocket } from 'node:dgram';

export interface TestDnsServer {
  /** `127.0.0.1:port`, as GATEWAY_DNS_SERVERS takes it. */
  readonly address: string;
  /** Name → IPv4 address it answers with now; a name not here gets NXDOMAIN. Change it at will. */
  readonly answers: Map<string, string>;
  /** Name → IPv6 address its AAAA queries get (none by default: no record). */
  readonly answers6: Map<string, string>;
  /** Query types ('A', 'AAAA') answered SERVFAIL for now, as a flaky upstream server would. */
  readonly failing: Set<'A' | 'AAAA'>;
  /** Every name asked for (A or AAAA), in order. */
  readonly asked: string[];
  /** Names whose queries wait unanswered, as a slow server's would, until release(name). */
  readonly holding: Set<string>;
  /** Answers the held queries of `name` from the tables as they are now, and holds its queries no more. */
  release(name: string): void;
  close(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const SERVFAIL = 2;
const NXDOMAIN = 3;

/** An IPv6 address's 16 bytes (the `::` form expanded). */
function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const left = head === '' ? [] : head!.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

/**
 * A DNS server on 127.0.0.1 (UDP, an ephemeral port) that answers A queries from `answers` and
 * AAAA queries from `answers6` (no record when a name is not there) with a 1-second TTL, unknown
 * names with NXDOMAIN, and the query types in `failing` with SERVFAIL; a name in `holding` is
 * answered only on release(name), as a slow server would. Just the few bytes of
 * RFC 1035 a resolver needs: one question in, its answer out; no compression but the pointer to
 * the question's name.
 */
export async function startDnsServer(answers: Record<string, string>): Promise<TestDnsServer> {
  const table = new Map(Object.entries(answers));
  const table6 = new Map<string, string>();
  const failing = new Set<'A' | 'AAAA'>();
  const asked: string[] = [];
  const holding = new Set<string>();
  let held: { name: string; reply: () => void }[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (query, peer) => {
    // The question starts after the 12-byte header: labels, a 0 byte, then type and class.
    const labels: string[] = [];
    let at = 12;
    while (at < query.length && query[at]! > 0) {
      labels.push(query.subarray(at + 1, at + 1 + query[at]!).toString('latin1'));
      at += 1 + query[at]!;
    }
    const questionEnd = at + 5;
    if (questionEnd > query.length) return;
    const name = labels.join('.').toLowerCase();
    const type = query.readUInt16BE(at + 1);
    asked.push(name);
    const reply = (): void => answer(query, questionEnd, name, type, peer);
    if (holding.has(name)) held.push({ name, reply });
    else reply();
  });
  const answer = (query: Buffer, questionEnd: number, name: string, type: number, peer: { port: number; address: string }): void => {
    const address = table.get(name);
    const address6 = table6.get(name);
    const failed = failing.has(type === TYPE_AAAA ? 'AAAA' : 'A');
    const data = failed ? null : type === TYPE_A && address !== undefined ? Buffer.from(address.split('.').map(Number)) : type === TYPE_AAAA && address6 !== undefined ? ipv6Bytes(address6) : null;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    // QR, the query's RD, RA; NXDOMAIN for an unknown name.
    const rcode = failed ? SERVFAIL : address === undefined && address6 === undefined ? NXDOMAIN : 0;
    header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | rcode, 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(data === null ? 0 : 1, 6);
    const parts: Buffer[] = [header, query.subarray(12, questionEnd)];
    if (data !== null) {
      const record = Buffer.alloc(12);
      record.writeUInt16BE(0xc00c, 0);
      record.writeUInt16BE(type, 2);
      record.writeUInt16BE(CLASS_IN, 4);
      record.writeUInt32BE(1, 6);
      record.writeUInt16BE(data.length, 10);
      parts.push(record, data);
    }
    socket.send(Buffer.concat(parts), peer.port, peer.address);
  };
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    answers: table,
    answers6: table6,
    failing,
    asked,
    holding,
    release(name) {
      holding.delete(name);
      const now = held.filter((query) => query.name === name);
      held = held.filter((query) => query.name !== name);
      for (const query of now) query.reply();
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
