import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listeningInodes, otherListeners } from '../../src/coordinator/port-listeners.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9C6F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41001 1 0000000000000000 100 0 0 10 0
   1: 00000000:9C6F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41002 1 0000000000000000 100 0 0 10 0
   2: 0100007F:9C6F 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 41003 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41004 1 0000000000000000 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:9C6F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 42001 1 0000000000000000 100 0 0 10 0
`;

describe('the sockets listening on a port', () => {
  it('reads those in LISTEN state on the port, on any address, from tcp and tcp6 tables', () => {
    // 0x9C6F = 40047; an established connection from that port (st 01) and another port's listener are not listeners on it.
    expect(listeningInodes(TCP, 40047)).toEqual([41001, 41002]);
    expect(listeningInodes(TCP6, 40047)).toEqual([42001]);
    expect(listeningInodes(TCP, 8080)).toEqual([41004]);
    expect(listeningInodes(TCP, 1)).toEqual([]);
  });

  it('counts another process listening on the port, not this one', async () => {
    const own = createServer();
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    const { port } = own.address() as AddressInfo;
    try {
      expect(otherListeners(port)).toBe(0);
      // Another process on the port's other loopback address: the port's listeners, whatever the address.
      const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.2', () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await once(child.stdout!, 'data');
        expect(otherListeners(port)).toBe(1);
      } finally {
        child.kill();
        await once(child, 'exit');
      }
    } finally {
      await new Promise((resolve) => own.close(resolve));
    }
  });
});
