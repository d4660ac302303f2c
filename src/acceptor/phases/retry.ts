import { performance } from 'node:perf_hooks';
import { retryBudget, IDEMPOTENT_METHODS, MIN_TRY_MS } from '../../resilience/retry-policy.js';
import { clusterInFlight, type NodeTable } from '../../shm/node-table.js';
import { claimRetry, countRetry, endRetry, type RetryTable } from '../../shm/retry-table.js';
import { CLIENT_CLOSED_STATUS, type RequestContext } from '../request-context.js';
import { IDEMPOTENCY_KEY_REPEATED } from '../request-head.js';
import { RoutingReason } from '../../routing/routing-reason.js';
import type { ClientListener } from '../client-contract.js';
import type { Finisher } from './finish.js';
import type { Selection } from './select.js';
import type { RequestTracing } from '../../tracing/request-tracing.js';

/**
 * Whether a failed try is tried again (issue 11), and the bookkeeping when it is. Safe only: an
 * idempotent method or an Idempotency-Key, a body read whole (a streamed one is gone), nothing
 * sent to the client yet (the exchange asks only then); within the route's policy (reasons,
 * max, backoff, time left of GATEWAY_UPSTREAM_TIMEOUT_MS), a node not tried yet, and the
 * cluster's retry budget.
 */
export class Retrier {
  readonly #selection: Selection;
  readonly #finisher: Finisher;
  readonly #nodes: NodeTable;
  readonly #table: RetryTable;
  readonly #lane: number;
  /** null when tracing is off. */
  readonly #tracing: RequestTracing | null;
  readonly #random: () => number;

  constructor(
    selection: Selection,
    finisher: Finisher,
    nodes: NodeTable,
    table: RetryTable,
    lane: number,
    tracing: RequestTracing | null,
    random: () => number = Math.random,
  ) {
    this.#tracing = tracing;
    this.#selection = selection;
    this.#finisher = finisher;
    this.#nodes = nodes;
    this.#table = table;
    this.#lane = lane;
    this.#random = random;
  }

  /**
   * After a try of `ctx` failed for `reason` (a RETRY_REASONS index), its node already released:
   * the wait (ms) before the next try, which then holds its node and a budget claim; -1: no
   * retry, the failure is answered as it is.
   */
  next(ctx: RequestContext, reason: number): number {
    const plan = ctx.plan!;
    const policy = plan.retries;
    if (policy === null || ctx.retries >= policy.max || !policy.retriesOn(reason)) return -1;
    if (ctx.streamedBody !== null || !(IDEMPOTENT_METHODS.has(ctx.method) || oneKey(ctx.idempotencyKey))) return -1;
    const wait = policy.backoffMs(ctx.retries, this.#random);
    if (policy.tryTimeoutMs(performance.now() + wait, ctx.wholeAt) < MIN_TRY_MS) return -1;
    // The try that failed was itself a retry: its claim ends here, or the request's own last
    // retry would count against its next one (with minRetries 1, a second retry could never be made).
    if (ctx.retryHeld) {
      ctx.retryHeld = false;
      endRetry(this.#table, this.#lane, ctx.cluster);
    }
    // The budget before the walk: a walk may take a half-open node's probe token.
    const { percent, minRetries } = plan.retryBudget;
    const budget = retryBudget(clusterInFlight(this.#nodes, plan.cluster), percent, minRetries);
    if (!claimRetry(this.#table, this.#lane, plan.cluster, budget)) return -1;
    const member = this.#selection.pickRetry(ctx, ctx.member);
    if (member < 0) {
      endRetry(this.#table, this.#lane, plan.cluster);
      return -1;
    }
    countRetry(this.#table, plan.cluster, reason);
    if (this.#tracing !== null) this.#tracing.retrying(ctx);
    // The failed try counts against its node now (and lets it go): the request's ending will be another node's.
    this.#finisher.recordFailedTry(ctx);
    ctx.retries++;
    ctx.status = 0;
    ctx.errorCode = undefined;
    ctx.refused = false;
    ctx.waitedOut = false;
    ctx.reachedNode = false;
    ctx.cacheHit = -1;
    ctx.headAt = 0;
    ctx.headStatus = 0;
    this.#selection.hold(ctx, member);
    ctx.routing = RoutingReason.Retry;
    ctx.retryHeld = true;
    return wait;
  }
}

/**
 * The client side of a request between two tries: a client that leaves during the backoff ends
 * the request there (the next try is never sent), and its node and budget claim are released.
 */
export class RetryWait implements ClientListener {
  readonly #ctx: RequestContext;
  readonly #finisher: Finisher;
  readonly #timer: NodeJS.Timeout;

  constructor(ctx: RequestContext, finisher: Finisher, waitMs: number, send: (ctx: RequestContext) => void) {
    this.#ctx = ctx;
    this.#finisher = finisher;
    ctx.client.handOver(this);
    this.#timer = setTimeout(send, waitMs, ctx);
  }

  clientAborted(): void {
    clearTimeout(this.#timer);
    this.#ctx.status = CLIENT_CLOSED_STATUS;
    this.#finisher.finish(this.#ctx);
  }

  clientWritable(): void {}

  beforeLastBytes(): void {}
}

/** The client named one Idempotency-Key: a write it says may run twice. Two name no one key. */
function oneKey(key: string): boolean {
  return key !== '' && key !== IDEMPOTENCY_KEY_REPEATED;
}
