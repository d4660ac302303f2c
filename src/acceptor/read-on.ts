import { CLIENT_CLOSED_STATUS, type RequestContext } from './request-context.js';
import { keyedEnded, keyedReadsOn, keyedUnsent } from './thread-drain.js';

/**
 * Who an exchange reads its node's answer on for once its client left (most exchanges never
 * make one): a keyed write's key, which keeps the answer (the node may have done the write: a
 * duplicate must get its answer, not do it again), or the followers of a multiplexed call it leads.
 */
export class ReadOn {
  /** Every client of the multiplexed call left, and the exchange stopped it: nothing to say of the node. */
  abandoned = false;
  readonly #keyed: boolean;
  /** A keyed write whose client left before a connection took it: how the drain's cut ends it unsent. */
  #unsent: (() => void) | null = null;

  private constructor(keyed: boolean) {
    this.#keyed = keyed;
  }

  /**
   * Whoever still wants the answer of `ctx` now that its client left, or null: nobody, the
   * exchange stops. `stop(evenSent)` ends the exchange if not sent yet, and aborts it if sent and
   * `evenSent`: a multiplexed call whose every follower left too (evenSent), and a keyed write
   * still waiting for a connection at the drain's deadline.
   */
  static after(ctx: RequestContext, onConnection: boolean, stop: (evenSent: boolean) => void): ReadOn | null {
    if (ctx.heldKey !== null && keyedReadsOn(ctx.capture!, onConnection)) {
      const readOn = new ReadOn(true);
      if (!onConnection) keyedUnsent((readOn.#unsent = () => stop(false)));
      return readOn;
    }
    if (ctx.batch === null) return null;
    const readOn = new ReadOn(false);
    const nobody = (): void => {
      readOn.abandoned = true;
      stop(true);
    };
    return ctx.batch.leaderGone(nobody) ? readOn : null;
  }

  /** After a chunk of the answer: whether it is still worth reading (past the drain's deadline, a keyed one may have outgrown its key). */
  wanted(ctx: RequestContext): boolean {
    return !this.#keyed || keyedReadsOn(ctx.capture!, true);
  }

  /** The exchange ended, for a client that had left. */
  ended(ctx: RequestContext): void {
    ctx.status = CLIENT_CLOSED_STATUS;
    if (this.#unsent !== null) keyedEnded(this.#unsent);
  }
}
