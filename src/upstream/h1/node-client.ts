import { maxHeaderSize } from 'node:http';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { queueTimeout, upstreamError, type UpstreamDispatcher, type UpstreamHandler, type UpstreamRequest } from '../dispatcher.js';
import { unbracketed } from '../node-names.js';
import { H1Connection } from './connection.js';
import { IdleConnections } from './idle-connections.js';
import type { ConnectionOptions, ConnectionOwner } from './connection-contract.js';
import { joinSweep, leaveSweep, sweepTickMs, type Swept } from '../sweeps.js';

export interface H1ClientOptions {
  /** At most this many connections; more requests wait for one, in order. */
  readonly connections: number;
  /**
   * A request fails when its answer's head has not come whole this long after the request went out
   * (undici's headersTimeout), when the node sends no body bytes for this long (its bodyTimeout),
   * and when it waits this long for a connection.
   */
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly lookup: LookupFunction | undefined;
}

/** An idle connection closes after this when the node said nothing of its own limit (undici's keepAliveTimeout). */
const IDLE_MS = 4_000;
/** How much earlier than the node's own idle limit (Keep-Alive: timeout) its connection closes here, so a request never races that close (undici's threshold). */
const IDLE_MARGIN_MS = 2_000;
const MAX_IDLE_MS = 600_000;

/** A request waiting for a connection, since when (performance.now()). */
interface Queued {
  readonly request: UpstreamRequest;
  readonly handler: UpstreamHandler;
  readonly since: number;
}

/**
 * A node's keep-alive pool for plain http: the gateway's own HTTP/1.1 client, in place of undici's
 * Pool for speed (no request object, header table, timer or stream per request; one read buffer
 * for every connection). The most recently used idle connection is taken first, one given back
 * in the turn running now only when no other is idle (idle-connections.ts). Timeouts are
 * checked by the thread's sweep (sweeps.ts) while the pool has connections, not by a timer per
 * request: a request that made no progress for a whole timeout, or waited that long for a
 * connection (all of them busy), fails with undici's codes, so the exchange, the retry policy and
 * the error mapping treat both clients alike.
 */
export class H1NodeClient implements UpstreamDispatcher, ConnectionOwner, Swept {
  readonly #connection: ConnectionOptions;
  readonly #maxConnections: number;
  readonly #timeoutMs: number;
  readonly #tickMs: number;
  readonly #all = new Set<H1Connection>();
  readonly #idle = new IdleConnections<H1Connection>();
  /** Oldest first. */
  readonly #queue: Queued[] = [];
  #closing = false;
  #whenClosed: (() => void)[] = [];

  constructor(origin: string, options: H1ClientOptions) {
    const url = new URL(origin);
    if (url.protocol !== 'http:') throw new Error(`the HTTP/1.1 client speaks plain http only, not ${url.protocol}`);
    this.#connection = {
      host: unbracketed(url.hostname),
      port: url.port === '' ? 80 : Number(url.port),
      lookup: options.lookup,
      connectTimeoutMs: options.connectTimeoutMs,
      maxHeadBytes: maxHeaderSize,
    };
    this.#maxConnections = options.connections;
    this.#timeoutMs = options.timeoutMs;
    this.#tickMs = sweepTickMs(Math.min(options.timeoutMs, IDLE_MS));
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean {
    if (this.#closing) {
      handler.onError(upstreamError('UND_ERR_CLOSED', "the node's pool is closed"));
      return false;
    }
    const connection = this.#idle.take() ?? (this.#all.size < this.#maxConnections ? this.#open() : null);
    if (connection === null) this.#queue.push({ request, handler, since: performance.now() });
    else if (!connection.send(request, handler)) this.reusable(connection);
    return true;
  }

  close(): Promise<void> {
    this.#closing = true;
    for (const connection of this.#idle.drain()) connection.destroy(upstreamError('UND_ERR_CLOSED', "the node's pool is closed"));
    if (this.#all.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#whenClosed.push(resolve));
  }

  destroy(): Promise<void> {
    const err = upstreamError('UND_ERR_DESTROYED', "the node's pool was destroyed");
    this.#closing = true;
    for (const { handler } of this.#queue.splice(0)) handler.onError(err);
    for (const connection of [...this.#all]) connection.destroy(err);
    return this.close();
  }

  cutUnwritten(): void {
    const err = upstreamError('UND_ERR_ABORTED', 'not sent by the drain deadline');
    for (const connection of [...this.#all]) connection.cutUnwritten(err);
  }

  waitError(): Error & { code: string } {
    // A request is on a connection from the moment one opens for it: one still waiting waits for a busy one.
    return queueTimeout();
  }

  // ---- from the connections ----

  reusable(connection: H1Connection): void {
    if (this.#sendQueued(connection)) return;
    if (this.#closing) connection.destroy(upstreamError('UND_ERR_CLOSED', "the node's pool is closed"));
    else if (this.#idleLimitMs(connection) <= 0) connection.destroy(upstreamError('UND_ERR_CLOSED', 'the node keeps idle connections too briefly'));
    else this.#idle.push(connection);
  }

  unsent(request: UpstreamRequest, handler: UpstreamHandler): void {
    // A new connection in place of the one closing (it leaves the pool on its 'close'), past the
    // pool's size until then.
    const connection = this.#idle.take() ?? this.#open();
    if (!connection.send(request, handler)) this.reusable(connection);
  }

  closed(connection: H1Connection): void {
    this.#all.delete(connection);
    this.#idle.remove(connection);
    // A request waiting for a connection gets a new one (also while closing: close() lets them run);
    // none opens for requests that all ended while they waited.
    if (this.#queue.length > 0 && this.#keepWanted()) this.reusable(this.#open());
    if (this.#all.size > 0) return;
    leaveSweep(this.#tickMs, this);
    for (const resolve of this.#whenClosed.splice(0)) resolve();
  }

  /** Sends the oldest queued request whose handler still wants it on `connection`; false when none did. */
  #sendQueued(connection: H1Connection): boolean {
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      // Declined (its client left, or its try timed out, while it waited), or its head refused.
      if (connection.send(next.request, next.handler)) return true;
    }
    return false;
  }

  /** Drops the queued requests that ended while they waited (unsent, as a connection would decline them); true when any is left. */
  #keepWanted(): boolean {
    let kept = 0;
    for (const queued of this.#queue) if (queued.handler.wanted) this.#queue[kept++] = queued;
    this.#queue.length = kept;
    return kept > 0;
  }

  #open(): H1Connection {
    // A member of the thread's sweep while it has connections.
    if (this.#all.size === 0) joinSweep(this.#tickMs, this);
    const connection = new H1Connection(this.#connection, this);
    this.#all.add(connection);
    return connection;
  }

  /**
   * The sweep: fails requests whose node went quiet for a whole timeout, and those that waited
   * that long for a connection; closes connections idle past their limit.
   */
  sweep(): void {
    if (this.#queue.length > 0) this.#expireQueued();
    for (const connection of this.#all) {
      // Counted while busy too: a request that writes nothing (declined, its head refused, aborted
      // while held) hands the connection back no less idle, for the node's own clock ran on.
      // The first tick may come at once: only k - 1 whole ticks are sure to have passed, never fire early.
      const idleMs = (++connection.idleTicks - 1) * this.#tickMs;
      if (!connection.busy) {
        if (idleMs >= this.#idleLimitMs(connection)) connection.destroy(upstreamError('UND_ERR_CLOSED', 'idle'));
        continue;
      }
      // A paused answer, or an upload the client is slow to send, waits for the client, not for the node.
      if (connection.waitsForClient) continue;
      if ((++connection.quietTicks - 1) * this.#tickMs >= this.#timeoutMs) connection.timedOut();
    }
  }

  /** All connections stayed busy for a whole timeout: the oldest waiting requests fail, unsent, as timed out. */
  #expireQueued(): void {
    const now = performance.now();
    while (this.#queue.length > 0 && now - this.#queue[0]!.since >= this.#timeoutMs) {
      this.#queue.shift()!.handler.onError(queueTimeout());
    }
  }

  #idleLimitMs(connection: H1Connection): number {
    const hint = connection.idleHintMs;
    return hint < 0 ? IDLE_MS : Math.min(MAX_IDLE_MS, hint - IDLE_MARGIN_MS);
  }
}
