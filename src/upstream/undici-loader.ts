import type { GatewayConfig } from '../config/load.js';
import type { Settings } from '../config/schema.js';
import type { createNodePool } from './node-pool.js';

/**
 * undici's pools (node-pool.ts), loaded by a thread only once a node needs one: an https node, or
 * any node under GATEWAY_UPSTREAM_CLIENT=undici. Plain-http nodes go through the gateway's own
 * client, and an acceptor thread that never has another kind never loads undici: about 5 MiB of
 * RSS and 80 ms of start-up per thread (2026-12-07). Loading is asynchronous, so a thread loads it
 * before it applies a config that needs it (configUsesUndici); pools are then made synchronously.
 */
let createPool: typeof createNodePool | null = null;

/** Whether the node at `origin` gets undici's pool under `client` (else the gateway's own client). */
export function usesUndici(origin: string, client: Settings['upstreamClient']): boolean {
  return client !== 'h1' || !origin.startsWith('http:');
}

/** Whether any node of `config` gets undici's pool. */
export function configUsesUndici(config: GatewayConfig): boolean {
  const { upstreamClient } = config.settings;
  return Object.values(config.clusters).some((cluster) => cluster.nodes.some(({ url }) => usesUndici(url, upstreamClient)));
}

/** Whether loadUndici already resolved in this thread. */
export function undiciLoaded(): boolean {
  return createPool !== null;
}

/** Loads undici's pools into this thread (once; later calls resolve at once). */
export async function loadUndici(): Promise<void> {
  createPool ??= (await import('./node-pool.js')).createNodePool;
}

/** createNodePool, once loadUndici resolved in this thread. */
export function undiciPool(...args: Parameters<typeof createNodePool>): ReturnType<typeof createNodePool> {
  if (createPool === null) throw new Error('an undici pool was asked for before loadUndici() resolved in this thread');
  return createPool(...args);
}
