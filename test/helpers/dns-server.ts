import { createSocket } from 'node:dgram';

export interface TestDnsServer {
  /** `127.0.0.1:port`, as GATEWAY_DNS_SERVERS takes it. */
  readonly address: string;
  /** Name → IPv4 address it answers with now; a name not here gets NXDOMAIN. Change it at will. */
  readonly answers: Map<string, string>;
  /** Every name asked for (A or AAAA), in order. */
  readonly asked: string[];
  close(): Promise<void>;
}

const TYPE_A = 1;
const CLASS_IN = 1;
const NXDOMAIN = 3;

/**
 * A DNS server on 127.0.0.1 (UDP, an ephemeral port) that answers A queries from `answers` with a
 * 1-second TTL, AAAA queries with no record, and unknown names with NXDOMAIN. Just the few bytes of
 * RFC 1035 a resolver needs: one question in, its answer out; no compression but the pointer to
 * the question's name.
 */
export async function startDnsServer(answers: Record<string, string>): Promise<TestDnsServer> {
  const table = new Map(Object.entries(answers));
  const asked: string[] = [];
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
    const address = table.get(name);
    const answer = address !== undefined && type === TYPE_A;
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    // QR, the query's RD, RA; NXDOMAIN for an unknown name.
    header.writeUInt16BE(0x8000 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (address === undefined ? NXDOMAIN : 0), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answer ? 1 : 0, 6);
    const parts = [header, query.subarray(12, questionEnd)];
    if (answer) {
      const record = Buffer.alloc(16);
      record.writeUInt16BE(0xc00c, 0);
      record.writeUInt16BE(TYPE_A, 2);
      record.writeUInt16BE(CLASS_IN, 4);
      record.writeUInt32BE(1, 6);
      record.writeUInt16BE(4, 10);
      address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
      parts.push(record);
    }
    socket.send(Buffer.concat(parts), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    answers: table,
    asked,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
