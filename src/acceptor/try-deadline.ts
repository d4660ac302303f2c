import type { RequestBody } from './request-body.js';
import { upstreamError, type UpstreamDispatcher } from '../upstream/dispatcher.js';

/** What a try's deadline asks of its exchange (upstream-exchange.ts). */
export interface TimedTry {
  /** The try still waits for its answer's head: not ended, and no head came. */
  awaitingHead(): boolean;
  /** The try is on a connection: aborted there with `err`. False when not on one yet. */
  abortOnConnection(err: Error): boolean;
  /** Fails the try with `err` as its pool would. */
  onError(err: Error): void;
}

/**
 * A route's per-try timeout (retries' perTryTimeoutMs): the try fails as timed out unless its
 * answer's head comes in time. The pools' own timeouts run on coarse clocks (undici's timers, the
 * h1 client's sweep: up to a second late), too coarse for a per-try limit. As Envoy's per-try
 * timeout, it runs once the request is whole: a client slow to upload is not the node's delay. A
 * streamed body (never retried, so this is a first try's) is whole when the client sent its last
 * byte, whether or not the pool has read it yet (it may still wait for a connection).
 */
export class TryDeadline {
  readonly #exchange: TimedTry;
  /** The pool the try waits in, which says whose a wait that ran out is. */
  readonly #pool: UpstreamDispatcher;
  #timer: NodeJS.Timeout | null = null;

  constructor(exchange: TimedTry, pool: UpstreamDispatcher, ms: number, body: RequestBody | null) {
    this.#exchange = exchange;
    this.#pool = pool;
    if (body === null) this.#arm(ms);
    // Not once the head came (or the try failed) meanwhile: an answer already coming is not timed.
    else body.whenSent(() => exchange.awaitingHead() && this.#arm(ms));
  }

  /** The head came, or the try ended. */
  clear(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(TryDeadline.#ranOut, ms, this);
  }

  static #ranOut(deadline: TryDeadline): void {
    deadline.#timer = null;
    const exchange = deadline.#exchange;
    if (!exchange.awaitingHead()) return;
    if (exchange.abortOnConnection(upstreamError('UND_ERR_HEADERS_TIMEOUT', 'the try got no answer head within its timeout'))) return;
    // Not yet on a connection: it fails now, as its pool's own wait would (a busy pool's wait is not
    // the node's failure), and is declined once a connection takes it.
    exchange.onError(deadline.#pool.waitError());
  }
}
