import { createServer } from 'node:net';

/** A port the kernel had free a moment ago on 127.0.0.1, for a server that cannot take port 0 or whose port a test must know first. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
