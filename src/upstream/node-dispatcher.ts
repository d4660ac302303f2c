import type { Settings } from '../config/schema.js';
import type { UpstreamDispatcher } from './dispatcher.js';
import { H1NodeClient } from './h1/node-client.js';
import type { NodeDial } from './node-dial.js';
import { UndiciDispatcher } from './undici-dispatcher.js';
import { undiciPool, usesUndici } from './undici-loader.js';

export interface NodeDispatcherOptions {
  readonly connections: number;
  /** The node may send nothing (its head, or the next body bytes) for this long. */
  readonly timeoutMs: number;
}

/**
 * A node's keep-alive pool: the gateway's own HTTP/1.1 client for a plain-http node under
 * GATEWAY_UPSTREAM_CLIENT=h1 (the default), else undici's Pool (loaded first: undici-loader.ts). The
 * acceptors forward through it, and the coordinator's health checks reach the node the same way.
 */
export function createNodeDispatcher(origin: string, client: Settings['upstreamClient'], dial: NodeDial, options: NodeDispatcherOptions): UpstreamDispatcher {
  const { connections, timeoutMs } = options;
  if (!usesUndici(origin, client)) {
    return new H1NodeClient(origin, { connections, timeoutMs, connectTimeoutMs: dial.connectTimeoutMs, lookup: dial.lookup });
  }
  return new UndiciDispatcher(undiciPool(origin, dial, { connections, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }), connections, timeoutMs);
}
