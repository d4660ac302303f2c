import type { RequestContext } from './request-context.js';
import type { UpstreamHandler } from '../upstream/dispatcher.js';

/** What an UpstreamExchange tells the request that owns it (the forward phase). */
export interface ExchangeOwner {
  /** The exchange its pool's dispatch() runs for now: a connection taking it then waited for nothing. */
  readonly dispatching: UpstreamHandler | null;
  /**
   * Called exactly once per exchange, when the node is done with the request: before the client
   * can see the end of the answer, so a client that waits for its answer before sending again
   * never finds the node still counting the last one (bounded-load routing reads that count).
   */
  nodeDone(ctx: RequestContext): void;
  /** A probe's answer head came: a node that answers is judged on that, not once a long answer ends. */
  probeAnswered(ctx: RequestContext): void;
  /**
   * The whole answer is about to reach the client (its last bytes, or its end, are written next):
   * what a client sending again on seeing it must find done (a keyed write's stored answer).
   */
  answered(ctx: RequestContext): void;
  /** Called exactly once per exchange, after nodeDone, with ctx.status and ctx.errorCode set. */
  finish(ctx: RequestContext): void;
  /**
   * The try failed for `reason` (a RETRY_REASONS index) before the client got anything, its node
   * released already: true when the owner tries again (and owns the request from now on, so
   * this exchange neither answers nor finishes); false to answer the failure as it is.
   */
  retry(ctx: RequestContext, reason: number): boolean;
}
