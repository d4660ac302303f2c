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

const PAST_ASCII = /[^\x00-\x7f]/;

/**
 * `text` as the client's bytes, one character each: undici writes a head's strings as latin1 (and
 * refuses a character past 0xff), where uWS read the client's bytes as UTF-8. U+FFFD stays, for
 * undici to refuse (400 ERR_BAD_HEADER): uWS put it where the bytes were not UTF-8, and what they
 * were is lost. The own client does the same as it writes (h1/request-head.ts).
 */
function clientBytes(text: string): string {
  return PAST_ASCII.test(text) && !text.includes('\ufffd') ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

/** `request` with its target and header values as the client's bytes (clientBytes), in a copy: the request itself stays as it is, for a retry. */
function withClientBytes(request: UpstreamRequest): UpstreamRequest {
  const headers = request.headers;
  let converted: string[] | null = null;
  for (let i = 1; i < headers.length; i += 2) {
    const value = clientBytes(headers[i]!);
    if (value !== headers[i]) (converted ??= [...headers])[i] = value;
  }
  const path = clientBytes(request.path);
  return converted === null && path === request.path ? request : { ...request, path, headers: converted ?? headers };
}

/** An undici pool (an https node, or GATEWAY_UPSTREAM_CLIENT=undici) as a node's dispatcher. */
export class UndiciDispatcher implements UpstreamDispatcher {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean {
    return this.#pool.dispatch(withClientBytes(request), new FieldsHandler(handler));
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  destroy(): Promise<void> {
    return this.#pool.destroy();
  }
}
