import { CLIENT_CLOSED_STATUS, type RequestContext } from './request-context.js';

/**
 * Who an exchange reads its node's answer on for once its client left (most exchanges never
 * make one): a keyed write's key, which keeps the answer (the node may have done the write: a
 * duplicate must get its answer, not do it again), or the followers of a multiplexed call it leads.
 */
export class ReadOn {
  /** Every client of the multiplexed call left, and the exchange stopped it: nothing to say of the node. */
  abandoned = false;

  /**
   * Whoever still wants the answer of `ctx` now that its client left, or null: nobody, the
   * exchange stops. `stop` ends the exchange if not sent yet, else aborts it: a multiplexed call
   * whose every follower left too.
   */
  static after(ctx: RequestContext, stop: () => void): ReadOn | null {
    if (ctx.heldKey !== null) return new ReadOn();
    if (ctx.batch === null) return null;
    const readOn = new ReadOn();
    const nobody = (): void => {
      readOn.abandoned = true;
      stop();
    };
    return ctx.batch.leaderGone(nobody) ? readOn : null;
  }

  /** The exchange ended, for a client that had left. */
  ended(ctx: RequestContext): void {
    ctx.status = CLIENT_CLOSED_STATUS;
  }
}
