import { buildConnector, Pool, type Dispatcher } from 'undici';
import type { NodeDial } from './node-dial.js';

/**
 * An https node's pool. undici takes a request's SNI from its Host header (here the client's) and
 * closes a connection whenever that name changes; every request of this pool carries the node's
 * own name instead, so connections stay up whatever Host the clients send.
 */
class HttpsNodePool extends Pool {
  readonly #servername: string;

  constructor(origin: string, servername: string, options: Pool.Options) {
    super(origin, options);
    this.#servername = servername;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    (options as { servername?: string }).servername = this.#servername;
    return super.dispatch(options, handler);
  }
}

/**
 * A keep-alive pool for the node at `origin`. For https: the cluster's CA bundle, client
 * certificate and verification; SNI and the name its certificate must carry are the cluster's
 * `servername`, else the url's host when it is a name, none for an IP.
 */
export function createNodePool(origin: string, dial: NodeDial, options: Omit<Pool.Options, 'connect'>): Pool {
  const https = origin.startsWith('https:');
  const { tls } = dial;
  const connector = buildConnector({
    timeout: dial.connectTimeoutMs,
    ...(dial.lookup !== undefined && { lookup: dial.lookup }),
    ...(https &&
      tls !== undefined && {
        rejectUnauthorized: tls.verify,
        ...(tls.servername !== undefined && { servername: tls.servername }),
        ...(tls.ca !== undefined && { ca: tls.ca }),
        ...(tls.cert !== undefined && { cert: tls.cert, key: tls.key }),
      }),
  });
  if (!https) return new Pool(origin, { ...options, connect: connector });
  // The per-request name HttpsNodePool sets only keeps connections up: the connector ignores it.
  const connect: buildConnector.connector = (opts, callback) => connector({ ...opts, servername: undefined }, callback);
  return new HttpsNodePool(origin, tls?.servername ?? new URL(origin).hostname, { ...options, connect });
}
