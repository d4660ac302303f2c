import { Buffer } from 'node:buffer';
import type { Readable } from 'node:stream';
import type { RawFields } from './raw-fields.js';

/** A request as the forward phase hands it to a node's pool. */
export interface UpstreamRequest {
  readonly path: string;
  readonly method: string;
  /** Flat [name, value, …], names in lower case. */
  readonly headers: string[];
  /** A body read whole, one streamed, or none. */
  readonly body: Buffer | Readable | null;
}

/** What a pool tells the one request it carries (undici's handler shape, its head as RawFields). */
export interface UpstreamHandler {
  /**
   * The request got a connection; `abort` fails it (onError follows at once). false: it ended
   * while it waited for one (its client left, its try timed out): it is dropped unsent, the
   * connection stays as it was, and no onError follows.
   */
  onConnect(abort: (err?: Error) => void): boolean;
  /** false once it ended while it waited for a connection: onConnect would decline it. */
  readonly wanted: boolean;
  /** The answer's head: its raw fields; `resume` after a false from this or from onData. false: pause (no onData before the resume). */
  onHeaders(status: number, fields: RawFields, resume: () => void): boolean;
  /** Body bytes, which may be a view of a reused buffer: copy what is kept past the call. false: pause. */
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(err: Error): void;
}

/** A node's keep-alive pool, per thread: undici's Pool, or the gateway's own HTTP/1.1 client. */
export interface UpstreamDispatcher {
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean;
  /** Lets the requests it carries end, then closes its connections. */
  close(): Promise<void>;
  /** Fails what it carries and closes its connections now. */
  destroy(): Promise<void>;
  /**
   * The drain's deadline: no request may start to the node from now on, while those it has go on.
   * One given a connection but not written to an open socket yet fails, unsent. Only the own
   * HTTP/1.1 client has such requests (held for the turn's end, or on a connection still opening);
   * undici gives a request its connection (onConnect) as it writes it to an open one.
   */
  cutUnwritten?(): void;
  /**
   * What a request that waited for a connection until now fails with: the pool's queue timeout
   * when every connection is up and busy (the node is not judged by it), the node's connect
   * timeout when one is still opening.
   */
  waitError(): Error & { code: string };
}

/**
 * A request waited GATEWAY_UPSTREAM_TIMEOUT_MS for a connection (all of the pool's busy) and was
 * never sent: both pools' own code (undici's Pool has no such wait), mapped as a timeout.
 */
export const QUEUE_TIMEOUT = 'ERR_POOL_QUEUE_TIMEOUT';

/** The error both pools fail a request with when it waited too long for a connection. */
export function queueTimeout(): Error & { code: string } {
  return upstreamError(QUEUE_TIMEOUT, 'no connection to the node came free within the timeout');
}

/** An error carrying one of undici's codes: what both clients fail with, and what the error mapping reads. */
export function upstreamError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}
