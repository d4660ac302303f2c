import type { RequestContext } from './request-context.js';

/**
 * What hears of every request's ending, once, from the finisher: the access log (and tracing).
 * The thread holds null when none is on, so that an off feature costs one null check.
 */
export interface RequestObserver {
  /** `ctx` ended (answered, failed or abandoned) `totalMs` after its head arrived. */
  ended(ctx: RequestContext, totalMs: number): void;
  /** The thread is about to exit: nothing may stay buffered. */
  close(): void;
}
