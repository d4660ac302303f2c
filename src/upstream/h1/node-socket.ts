import { Buffer } from 'node:buffer';
import net from 'node:net';
import { upstreamError } from '../dispatcher.js';
import type { ConnectionOptions } from './connection-contract.js';

/**
 * Every connection of the thread reads into this one buffer: each read is parsed and handed on
 * before the next, and whatever is kept past it (a paused remainder, a backpressured chunk, a
 * head) is copied out. No allocation per read, nothing outside V8's heap to churn. 256 KiB: a
 * 64 KiB answer comes in one read (not two), a 1 MiB one in ~5 (not 17), each a write to the
 * client; uWS keeps at most one read for a client that cannot take it (Envoy allows 1 MiB).
 */
export const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/**
 * A connection's socket to a node: no Nagle (a request goes out whole), TCP keep-alive probes
 * after a minute idle, reads into READ_BUFFER (`onRead` gets their length; false pauses the
 * socket), and destroyed with UND_ERR_CONNECT_TIMEOUT unless it connects in time.
 */
export function connectToNode(options: ConnectionOptions, onRead: (bytes: number) => boolean): net.Socket {
  const socket = net.connect({
    host: options.host,
    port: options.port,
    ...(options.lookup !== undefined && { lookup: options.lookup }),
    noDelay: true,
    keepAlive: true,
    keepAliveInitialDelay: 60_000,
    onread: { buffer: READ_BUFFER, callback: onRead },
  } as net.NetConnectOpts);
  const timer = setTimeout(() => socket.destroy(upstreamError('UND_ERR_CONNECT_TIMEOUT', `no connection within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
  const stopTimer = (): void => clearTimeout(timer);
  socket.once('connect', stopTimer);
  socket.once('close', stopTimer);
  return socket;
}
