/**
 * uWS's pause() of a request body stops the socket's writable events too (its poll waits for
 * nothing, and its timeout is off). So an upload paused for a node that reads slowly (or not at
 * all: one that answered early), while the answer waits for the client to take more
 * (onWritable), would never move again. While both hold, the answer's writer is asked every
 * POLL_MS to try the socket itself (`onPoll`): a client that reads on gets the answer, at the pace
 * it reads. One that takes nothing for STALL_MS (uWS's own idle timeout) has its connection closed,
 * as an idle one would be, and the request ends as a client that left: its node slot, connection
 * and buffers go. Measured before the poll, with an echoing node and a client that reads slowly:
 * stalled for good after ~4 MiB.
 */
export const STALL_MS = 10_000;
export const POLL_MS = 10;

export class DuplexStall {
  #uploadPaused = false;
  #awaitingWritable = false;
  #timer: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;
  readonly #onStall: () => void;
  readonly #onPoll: () => void;

  constructor(onStall: () => void, onPoll: () => void) {
    this.#onStall = onStall;
    this.#onPoll = onPoll;
  }

  uploadPaused(paused: boolean): void {
    this.#uploadPaused = paused;
    this.#watch();
  }

  /** `awaiting` false: the client took what waited (a writable event, or a poll that got through). */
  awaitingWritable(awaiting: boolean): void {
    this.#awaitingWritable = awaiting;
    this.#watch();
  }

  /** The client took some of what waited, not all: the STALL_MS count starts again. */
  progressed(): void {
    this.#timer?.refresh();
  }

  /** The response is over: nothing to watch. */
  stop(): void {
    this.#uploadPaused = false;
    this.#watch();
  }

  #watch(): void {
    const stalled = this.#uploadPaused && this.#awaitingWritable;
    if (stalled && this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#clearPoll();
        this.#onStall();
      }, STALL_MS);
      this.#poll = setInterval(this.#onPoll, POLL_MS);
    } else if (!stalled && this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
      this.#clearPoll();
    }
  }

  #clearPoll(): void {
    if (this.#poll !== null) clearInterval(this.#poll);
    this.#poll = null;
  }
}
