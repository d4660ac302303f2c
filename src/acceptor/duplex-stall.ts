/**
 * uWS's pause() of a request body stops the socket's writable events too (its poll waits for
 * nothing, and its timeout is off). So an upload paused for a node that reads slowly, while the
 * answer waits for the client to take more (onWritable), can never move again: the node waits for
 * its answer to be read, the answer for a writable event, the upload for the node. Measured with
 * an echoing node and a client that reads slowly: stalled for good after ~4 MiB. Nothing in that
 * state can progress, so after STALL_MS (uWS's own idle timeout) the connection is closed, as an
 * idle one would be, and the request ends as a client that left: its node slot, connection and
 * buffers go.
 */
export const STALL_MS = 10_000;

export class DuplexStall {
  #uploadPaused = false;
  #awaitingWritable = false;
  #timer: NodeJS.Timeout | null = null;
  readonly #onStall: () => void;

  constructor(onStall: () => void) {
    this.#onStall = onStall;
  }

  uploadPaused(paused: boolean): void {
    this.#uploadPaused = paused;
    this.#watch();
  }

  awaitingWritable(awaiting: boolean): void {
    this.#awaitingWritable = awaiting;
    this.#watch();
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
        this.#onStall();
      }, STALL_MS);
    } else if (!stalled && this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }
}
