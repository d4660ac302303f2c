import { CLIENT_CLOSED_STATUS, type RequestContext } from './request-context.js';
import type { ClientListener } from './client-contract.js';

/** What ends a request: the finisher's one entry point. */
export interface Ending {
  finish(ctx: RequestContext): void;
}

/**
 * The client side of a request waiting for something of its own (its body to be read whole,
 * another thread's call): a client that leaves ends the request there, and `left` tells the
 * waiting code, once its wait is over, to drop the request.
 */
export class WaitingClient implements ClientListener {
  left = false;

  constructor(
    readonly ctx: RequestContext,
    readonly ending: Ending,
  ) {}

  clientAborted(): void {
    this.left = true;
    this.ctx.status = CLIENT_CLOSED_STATUS;
    this.ending.finish(this.ctx);
  }

  clientWritable(): void {}

  beforeLastBytes(): void {}
}
