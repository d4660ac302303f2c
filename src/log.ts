import { pino, type Logger } from 'pino';
import type { Settings } from './config/schema.js';

export type { Logger };

/** Log lines kept while stdout fails: beyond this they are dropped, not held in memory. */
const MAX_UNWRITTEN_LOG_BYTES = 1024 * 1024;

type DestinationOptions = Omit<Exclude<Parameters<typeof pino.destination>[0], string | number | undefined>, 'dest' | 'fd'>;

/**
 * stdout as pino writes it. A write that fails (a full disk, a file system gone read-only) loses
 * lines, never the gateway: SonicBoom would throw its error from whatever logged (pino swallows
 * only EPIPE), and an acceptor thread would die of it mid-request, then again once restarted.
 * Lines wait (up to `maxLength`) and go out once stdout takes them again.
 */
export function stdoutDestination(options: DestinationOptions): ReturnType<typeof pino.destination> {
  const destination = pino.destination({ dest: 1, ...options });
  destination.on('error', () => {});
  return destination;
}

/**
 * Structured JSON logs on stdout (pino: fast, and the format log pipelines expect). Written
 * synchronously so that a thread or process that exits right after logging keeps the line.
 */
export function createLogger(level: Settings['logLevel'], bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, stdoutDestination({ sync: true, maxLength: MAX_UNWRITTEN_LOG_BYTES }));
}

/**
 * One log line per interval at most for something that may happen many times a second (a Redis
 * outage, evictions, a name that fails to resolve, dropped access-log lines, a collector out of
 * reach): it counts what happens, and when a line is due says how many it stands for. The caller
 * gives the time, from its own clock.
 */
export class LogThrottle {
  readonly #intervalMs: number;
  #loggedAt = -Infinity;
  #unlogged = 0;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** `count` more happened at `now`: how many a line due now stands for (these included), or null when none is due. */
  count(now: number, count = 1): number | null {
    this.#unlogged += count;
    if (now - this.#loggedAt < this.#intervalMs) return null;
    const unlogged = this.#unlogged;
    this.#loggedAt = now;
    this.#unlogged = 0;
    return unlogged;
  }
}
