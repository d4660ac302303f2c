import type { Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import { LogThrottle, type Logger } from '../log.js';

/**
 * Errors a server emits once it listens: an accept that fails (EMFILE, once the process is out of
 * descriptors) is emitted on the server, and with no listener Node throws it, which would end the
 * coordinator and every thread with it. Logged instead, once a minute at most, with how many came;
 * the server goes on accepting.
 */
export function logLaterErrors(server: Server, log: Pick<Logger, 'warn'>, name: string): void {
  const throttle = new LogThrottle(60_000);
  server.on('error', (err) => {
    const errors = throttle.count(performance.now());
    if (errors !== null) log.warn({ err, errors }, `${name}: a connection could not be taken`);
  });
}
