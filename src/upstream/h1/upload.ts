import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { BodyFraming, type RequestHead } from './request-head.js';
import { streamBody, type BodyWriteEvents } from './request-body-writer.js';

/** What a connection hears of the upload it streams. */
export type UploadEvents = Pick<BodyWriteEvents, 'progress' | 'failed'>;

/**
 * A connection's streamed upload: its head, then the body as the client sends it, paused while the
 * socket's buffer is full. One per connection, for each streamed request it carries.
 */
export class Upload {
  /** The body is still being written. */
  pending = false;
  readonly #socket: Socket;
  readonly #events: UploadEvents;
  /** Resumes the body once the socket drained. */
  #resume: (() => void) | null = null;

  constructor(socket: Socket, events: UploadEvents) {
    this.#socket = socket;
    this.#events = events;
    socket.on('drain', () => this.#resume?.());
  }

  /**
   * Waits for the client's next bytes (the socket takes more): the node cannot be expected to
   * answer a request it has not had whole, so its silence is not its fault. A node that stops
   * reading the upload fills the socket, and its silence counts again.
   */
  get awaitingClient(): boolean {
    return this.pending && !this.#socket.writableNeedDrain;
  }

  start(head: RequestHead, body: Readable): void {
    const socket = this.#socket;
    const events = this.#events;
    socket.write(head.bytes);
    this.pending = true;
    this.#resume = streamBody(socket, body, head.framing === BodyFraming.Chunked, head.declared, {
      progress: events.progress,
      sent: () => {
        this.pending = false;
        this.#resume = null;
      },
      failed: events.failed,
    });
  }
}
