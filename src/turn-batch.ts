/** Something waiting for the end of the event loop's turn to write what it holds. */
export interface HeldWrite {
  /** Writes what it holds, unless that failed or its peer went away meanwhile. */
  writeHeld(): void;
}

/**
 * Writes held until the end of the event loop's turn and made together, from one setImmediate a
 * turn (after the poll phase's I/O callbacks), only when one waits. Writes that come a few µs
 * apart find the peer asleep each time, and the writing thread pays for each wake-up; written
 * back to back, most find it awake. Used for requests to nodes (upstream/h1/turn-writes.ts) and
 * answers to clients (acceptor/answer-writes.ts).
 */
export class TurnBatch {
  #waiting: HeldWrite[] = [];
  #spare: HeldWrite[] = [];
  readonly #afterBatch: (() => void) | null;
  readonly #atTurnEnd = (): void => this.writeNow();

  /** `afterBatch` runs once each batch is written (even if a write threw). */
  constructor(afterBatch: (() => void) | null = null) {
    this.#afterBatch = afterBatch;
  }

  /** Writes waiting now. */
  get size(): number {
    return this.#waiting.length;
  }

  hold(write: HeldWrite): void {
    if (this.#waiting.length === 0) setImmediate(this.#atTurnEnd);
    this.#waiting.push(write);
  }

  /** Writes what waits now, not waiting for the turn's end; one held meanwhile goes in the next batch. */
  writeNow(): void {
    const batch = this.#waiting;
    this.#waiting = this.#spare;
    this.#spare = batch;
    try {
      for (let i = 0; i < batch.length; i++) batch[i]!.writeHeld();
    } finally {
      batch.length = 0;
      this.#afterBatch?.();
    }
  }
}
