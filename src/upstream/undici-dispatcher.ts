import { Buffer } from 'node:buffer';
import type { Dispatcher, Pool } from 'undici';
import type { UpstreamDispatcher, UpstreamHandler, UpstreamRequest } from './dispatcher.js';
import { RawFields } from './raw-fields.js';

/** undici's handler of one request: passes everything on, the answer's raw headers as RawFields. */
class FieldsHandler implements Dispatcher.DispatchHandler {
  readonly #handler: UpstreamHandler;

  constructor(handler: UpstreamHandler) {
    this.#handler = handler;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#handler.onConnect(abort);
  }

  onHeaders(status: number, headers: Buffer[], resume: () => void): boolean {
    return this.#handler.onHeaders(status, RawFields.fromList(headers), resume);
  }

  onData(chunk: Buffer): boolean {
    return this.#handler.onData(chunk);
  }

  onComplete(): void {
    this.#handler.onComplete();
  }

  onError(err: Error): void {
    this.#handler.onError(err);
  }
}

/** An undici pool (an https node, or GATEWAY_UPSTREAM_CLIENT=undici) as a node's dispatcher. */
export class UndiciDispatcher implements UpstreamDispatcher {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean {
    return this.#pool.dispatch(request, new FieldsHandler(handler));
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  destroy(): Promise<void> {
    return this.#pool.destroy();
  }
}
