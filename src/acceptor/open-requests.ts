/**
 * A thread's count of open requests, and what waits for the requests open at some moment to end:
 * a reload's freed node slots (the coordinator hears the thread settled) and retired pools. A
 * request carries the generation `begin` gave it back to `end`.
 */
export class OpenRequests {
  #open = 0;
  /** Bumped by each `afterOpenEnd` that has requests to wait for: older ones are counted in #olderOpen. */
  #generation = 0;
  #olderOpen = 0;
  /** Told once every request begun before the last `afterOpenEnd` has ended. */
  #afterOlder: Array<() => void> = [];

  /** Requests begun and not ended yet. */
  get count(): number {
    return this.#open;
  }

  /** A request begins: the generation it ends with. */
  begin(): number {
    this.#open++;
    return this.#generation;
  }

  /** The request begun with `generation` ended. True when it was the last one open. */
  end(generation: number): boolean {
    if (generation !== this.#generation && --this.#olderOpen === 0) {
      const told = this.#afterOlder;
      this.#afterOlder = [];
      for (const then of told) then();
    }
    return --this.#open === 0;
  }

  /**
   * Calls `then` once every request open now has ended (at once when none is). One count serves
   * every caller: a later call counts the earlier one's requests too, so the earlier `then` may
   * wait for the later call's requests as well, never less than for its own.
   */
  afterOpenEnd(then: () => void): void {
    if (this.#open === 0) return then();
    this.#generation++;
    this.#olderOpen = this.#open;
    this.#afterOlder.push(then);
  }
}
