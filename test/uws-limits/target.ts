import { startBackend } from '../helpers/backends.js';
import { startGateway } from '../helpers/gateway-process.js';
import { CASE_PREFIX } from './cases.js';

/** SIGTERM drains for GATEWAY_DRAIN_MS (1 s here); a gateway still running after this is killed. */
const STOP_MS = 10_000;

export interface Target {
  /** The gateway's port on 127.0.0.1. */
  readonly port: number;
  /** The backend has seen a request for `path`. */
  forwarded(path: string): boolean;
  /** The headers of the backend's request for `path` (latin1, as node:http reads them), or null. */
  headersSeen(path: string): Readonly<Record<string, string | string[] | undefined>> | null;
  /** Stops the gateway and the backend; resolves to the gateway's exit code (0 when it drained). */
  stop(): Promise<number | null>;
}

/**
 * The built gateway (dist/main.js) on ephemeral 127.0.0.1 ports in front of one recording backend
 * that answers every CASE_PREFIX request 200. One acceptor thread, so that "the thread keeps
 * serving" and "another connection is unaffected" are about the thread that holds the bad one.
 */
export async function startTarget(): Promise<Target> {
  // Heads up to the gateway's 32 KiB ceiling reach the handler, so `forwarded` sees every one.
  const backend = await startBackend('uws-limits', undefined, { maxHeaderSize: 64 * 1024 });
  try {
    const gateway = await startGateway(
      {
        routes: [{ prefix: CASE_PREFIX, cluster: 'backend', requireTenant: false }],
        clusters: { backend: { nodes: [{ id: 'backend', url: backend.url }] } },
      },
      // The head limit one-read-16384/16385 pin; a short drain so a failed run stops quickly.
      { GATEWAY_THREADS: '1', GATEWAY_MAX_HEADER_BYTES: '16384', GATEWAY_DRAIN_MS: '1000' },
    );
    return {
      port: gateway.port,
      forwarded: (path) => backend.seen.some((request) => request.url === path),
      headersSeen: (path) => backend.seen.find((request) => request.url === path)?.headers ?? null,
      stop: async () => {
        const kill = setTimeout(() => void gateway.stop('SIGKILL'), STOP_MS);
        try {
          return await gateway.stop();
        } finally {
          clearTimeout(kill);
          await backend.close();
        }
      },
    };
  } catch (err) {
    await backend.close();
    throw err;
  }
}
