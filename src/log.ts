import { pino, type Logger } from 'pino';
import type { Settings } from './config/schema.js';

export type { Logger };

/**
 * Structured JSON logs on stdout (pino: fast, and the format log pipelines expect). Written
 * synchronously so that a thread or process that exits right after logging keeps the line.
 */
export function createLogger(level: Settings['logLevel'], bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ dest: 1, sync: true }));
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
