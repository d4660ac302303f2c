import type { LookupFunction } from 'node:net';
import type { UpstreamHandler, UpstreamRequest } from '../dispatcher.js';
import type { H1Connection } from './connection.js';

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** The answer ended and the connection can carry another request. */
  reusable(connection: H1Connection): void;
  /** The socket closed; the connection is gone. */
  closed(connection: H1Connection): void;
  /** A request the connection closed under before writing a byte of it: another connection carries it. */
  unsent(request: UpstreamRequest, handler: UpstreamHandler): void;
}

/** Where and how a pool's connections connect, and how large an answer's head may be. */
export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly lookup: LookupFunction | undefined;
  readonly connectTimeoutMs: number;
  readonly maxHeadBytes: number;
}
