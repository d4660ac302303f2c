/** Requests begun in one generation still open, and what waits for them (and every older one) to end. */
interface OlderGeneration {
  readonly generation: number;
  open: number;
  readonly then: Array<() => void>;
}

/**
 * A thread's count of open requests, and what waits for the requests open at some moment to end:
 * a reload's freed node slots (the coordinator hears the thread settled) and retired pools. Each
 * `afterOpenEnd` with requests open closes a generation; a request carries the generation `begin`
 * gave it back to `end`, and a caller waits for its own generation and the older ones only, so
 * requests begun after it (a long download, a stream) never hold it up.
 */
export class OpenRequests {
  #open = 0;
  #generation = 0;
  /** Of #open, those begun in #generation. */
  #current = 0;
  /** Closed generations with requests open, oldest first. */
  readonly #older: OlderGeneration[] = [];

  /** Requests begun and not ended yet. */
  get count(): number {
    return this.#open;
  }

  /** A request begins: the generation it ends with. */
  begin(): number {
    this.#open++;
    this.#current++;
    return this.#generation;
  }

  /** The request begun in `generation` ended. True when it was the last one open. */
  end(generation: number): boolean {
    this.#open--;
    if (generation === this.#generation) this.#current--;
    else this.#endOlder(generation);
    return this.#open === 0;
  }

  /** Calls `then` once every request open now has ended (at once when none is). */
  afterOpenEnd(then: () => void): void {
    if (this.#open === 0) return then();
    if (this.#current === 0) {
      // Every request open is of a closed generation: `then` waits for the newest of them.
      this.#older.at(-1)!.then.push(then);
      return;
    }
    this.#older.push({ generation: this.#generation, open: this.#current, then: [then] });
    this.#generation++;
    this.#current = 0;
  }

  #endOlder(generation: number): void {
    const older = this.#older;
    for (const entry of older) {
      if (entry.generation === generation) {
        entry.open--;
        break;
      }
    }
    // A generation's callers are told once it and every older one have no request open.
    while (older.length > 0 && older[0]!.open === 0) {
      for (const then of older.shift()!.then) then();
    }
  }
}
