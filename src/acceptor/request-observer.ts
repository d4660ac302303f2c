import type { RequestContext } from './request-context.js';

/**
 * What hears of every request's ending, once, from the finisher: the access log and tracing.
 * The thread holds null when none is on, so that an off feature costs one null check.
 */
export interface RequestObserver {
  /** `ctx` ended (answered, failed or abandoned) `totalMs` after its head arrived. */
  ended(ctx: RequestContext, totalMs: number): void;
  /** The thread is about to exit: nothing may stay buffered (an exporter may take a while to send it). */
  close(): void | Promise<void>;
}

/** The observer of a thread: both when both are on, either one alone, or null. */
export function observing(first: RequestObserver | null, second: RequestObserver | null): RequestObserver | null {
  if (first === null || second === null) return first ?? second;
  return {
    ended(ctx, totalMs) {
      first.ended(ctx, totalMs);
      second.ended(ctx, totalMs);
    },
    close: async () => {
      await Promise.all([first.close(), second.close()]);
    },
  };
}
