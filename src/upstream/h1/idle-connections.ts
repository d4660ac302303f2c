import { currentTurn } from './turn-writes.js';

/**
 * A pool's idle connections, the most recently used taken first, but those given back in the
 * turn running now only when no other is idle. The node may close a connection as it answers
 * without saying so, in a read this turn has not seen yet: a request given such a connection
 * waits a turn before it goes out (held-request.ts). Under load nearly every turn ends some answers
 * and brings new requests: taking the connection freed last made 27% of post-4k's requests wait
 * that turn (0.9% now), at 1.06–1.09× the CPU. One freed in an earlier turn, its socket read
 * since, goes out at once.
 */
export class IdleConnections<C extends { readonly usable: boolean }> {
  /** Given back before this turn, most recent last. */
  readonly #older: C[] = [];
  /** Given back in turn #freshTurn. */
  #fresh: C[] = [];
  #freshTurn = -1;
  readonly #turn: () => number;

  constructor(turn: () => number = currentTurn) {
    this.#turn = turn;
  }

  push(connection: C): void {
    this.#age();
    this.#fresh.push(connection);
  }

  /** An idle connection still usable (those the node closed meanwhile are dropped: they leave through their 'close'); undefined when none is. */
  take(): C | undefined {
    this.#age();
    return usable(this.#older) ?? usable(this.#fresh);
  }

  /** Forgets a connection that closed. */
  remove(connection: C): void {
    for (const list of [this.#older, this.#fresh]) {
      const index = list.indexOf(connection);
      if (index >= 0) list.splice(index, 1);
    }
  }

  /** Every idle connection, which it forgets. */
  drain(): C[] {
    return [...this.#older.splice(0), ...this.#fresh.splice(0)];
  }

  /** Those given back in a turn before this one join the older ones. */
  #age(): void {
    const turn = this.#turn();
    if (turn === this.#freshTurn) return;
    this.#freshTurn = turn;
    if (this.#fresh.length === 0) return;
    for (const connection of this.#fresh) this.#older.push(connection);
    this.#fresh.length = 0;
  }
}

function usable<C extends { readonly usable: boolean }>(list: C[]): C | undefined {
  let connection = list.pop();
  while (connection !== undefined && !connection.usable) connection = list.pop();
  return connection;
}
