import { Buffer } from 'node:buffer';
import type { ClientListener } from './client-contract.js';
import type { Batch } from './multiplex.js';
import type { ClientResponse } from './uws-adapter.js';

/**
 * The way a multiplexed call's answer reaches its leader's client while others share it (issue
 * 12). A client that pushes back makes any other request's node wait for it; this one's node is
 * read on at the node's pace, for the followers and other threads' waiters, and what its client
 * has not taken is held for it (copies: a chunk may be a view of a reused read buffer), written
 * in order as it takes them. Without it the slowest reader of all, the leader, paced every one of
 * them. Bounded: past `limit` bytes held, the node waits for this client again. While it holds
 * anything, the client's events come here first (handOver), then go on to the exchange.
 */
export class LeaderBacklog implements ClientListener {
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  /** The client pushed back while others shared the answer: chunks are held until it took them all. */
  #behind = false;

  constructor(
    readonly batch: Batch,
    readonly client: ClientResponse,
    /** The leader's exchange: what the client's events go to once nothing is held. */
    readonly exchange: ClientListener,
    /** GATEWAY_MULTIPLEX_MAX_RESPONSE_BYTES: the most an answer shared with other threads weighs. */
    readonly limit: number,
  ) {}

  /** A chunk of the answer for the leader's client: written, or held while it is behind; false: the node waits for this client. */
  write(chunk: Buffer): boolean {
    if (this.#behind) return this.#hold(chunk);
    if (this.client.write(chunk)) return true;
    // Pushed back, the chunk taken all the same (uWS, or the response's push-back, keeps what the
    // socket did not). With no one else to serve, the node waits for this client as for any other.
    if (!this.batch.othersWait) return false;
    this.#behind = true;
    this.client.handOver(this);
    return true;
  }

  /**
   * The node's answer ended, `whole` when as long as it said: true while this client is behind.
   * The others have the answer now, their clients its end: the exchange hears first, as before
   * its own client's last bytes, so that the node is released before.
   */
  complete(whole: boolean): boolean {
    if (!this.#behind) return false;
    if (whole) {
      this.exchange.beforeLastBytes();
      this.batch.end(undefined);
    }
    return true;
  }

  clientWritable(): void {
    let chunk: Buffer | undefined;
    while ((chunk = this.#chunks.shift()) !== undefined) {
      this.#bytes -= chunk.length;
      if (!this.client.write(chunk)) return;
    }
    // Caught up: the exchange writes on (or ends the answer), the node read on if it waited.
    this.#catchUp();
    this.exchange.clientWritable();
  }

  clientAborted(): void {
    this.#chunks.length = 0;
    this.#bytes = 0;
    this.#catchUp();
    this.exchange.clientAborted();
  }

  beforeLastBytes(): void {
    this.exchange.beforeLastBytes();
  }

  #hold(chunk: Buffer): boolean {
    this.#chunks.push(Buffer.from(chunk));
    this.#bytes += chunk.length;
    return this.#bytes <= this.limit;
  }

  #catchUp(): void {
    this.#behind = false;
    this.client.handOver(this.exchange);
  }
}
