import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { logLaterErrors } from '../../src/coordinator/listening-errors.js';

describe('a listening server with logLaterErrors', () => {
  it('logs an accept that failed (once a minute at most) and goes on serving, where Node would throw it', async () => {
    const server = createServer((_req, res) => res.end('still here'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const warned: { errors: number; msg: string }[] = [];
    logLaterErrors(server, { warn: (fields: { errors: number }, msg: string) => warned.push({ errors: fields.errors, msg }) } as never, 'admin server');
    try {
      const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
      for (let i = 0; i < 3; i++) expect(() => server.emit('error', emfile)).not.toThrow();
      expect(warned).toEqual([{ errors: 1, msg: 'admin server: a connection could not be taken' }]);
      const { port } = server.address() as AddressInfo;
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('still here');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
