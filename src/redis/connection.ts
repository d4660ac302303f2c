import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Settings } from '../config/schema.js';
import type { RedisOutage } from './outage.js';

export type RedisSettings = Pick<Settings, 'redisUrl' | 'redisTlsCaFile' | 'redisTimeoutMs'>;

const FIRST_RECONNECT_MS = 50;
const MAX_RECONNECT_MS = 2000;

/**
 * Milliseconds before reconnect attempt `attempt` (1, 2, …): doubling from 50 ms up to 2 s, with
 * full jitter, so that a fleet's instances do not all reconnect in the same instant after an outage.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RECONNECT_MS, FIRST_RECONNECT_MS * 2 ** Math.min(attempt - 1, 16));
  return Math.max(1, Math.round(ceiling * random()));
}

/**
 * A connection to Redis for one thread (ioredis), named `name` (CLIENT SETNAME, so that an operator
 * reading CLIENT LIST can tell which of a gateway's threads holds it; a server that refuses the
 * name still serves the connection, ioredis ignores that reply). It never makes a caller wait on an outage:
 * while it is down, calls fail at once (no offline queue, no retries of a call); a call slower
 * than redisTimeoutMs fails; it reconnects on its own with reconnectDelay. Calls made in one tick
 * go out in one write (auto-pipelining): the thread's requests share round trips.
 */
export function connectRedis(settings: RedisSettings, outage: RedisOutage, name: string): Redis {
  const url = settings.redisUrl;
  if (url === undefined) throw new Error('connectRedis: no redisUrl (the config loader requires one in redis mode)');
  const ca = settings.redisTlsCaFile === undefined ? undefined : readFileSync(settings.redisTlsCaFile);
  const redis = new Redis(url, {
    connectionName: name,
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: settings.redisTimeoutMs,
    connectTimeout: Math.max(1000, settings.redisTimeoutMs),
    retryStrategy: (attempt) => reconnectDelay(attempt),
    // rediss:// turns TLS on; the CA file only says whom to trust.
    ...(url.startsWith('rediss:') && ca !== undefined ? { tls: { ca } } : {}),
  });
  // Without a listener ioredis prints every reconnect failure.
  redis.on('error', (err: Error) => outage.connectionError(err));
  return redis;
}

/**
 * Closes a thread's connection once what it was asked has been answered (a drain's last
 * completions of idempotency keys among it): calls of this turn wait for the auto-pipeline's
 * setImmediate to be written, and QUIT, which is never pipelined, would go out first; so it waits
 * a turn too, then Redis answers everything before it. An unreachable Redis is let go after
 * `timeoutMs`.
 */
export function closeRedis(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const giveUp = setTimeout(() => {
      redis.disconnect();
      resolve();
    }, timeoutMs);
    setImmediate(() => {
      redis
        .quit()
        .catch(() => redis.disconnect())
        .finally(() => {
          clearTimeout(giveUp);
          resolve();
        });
    });
  });
}
