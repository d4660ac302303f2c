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
