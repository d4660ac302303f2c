import { z } from 'zod';

/**
 * The settings of several instances sharing state through Redis (issue 13): where rate limits
 * count, where idempotency keys and tenant load live, and how to reach Redis. Spread into
 * schema.ts's settings; the single-instance defaults never touch Redis.
 */
export const sharedStateSettings = {
  /** Where rate limits count: `local` (this process's shared table) or `redis` (every instance sharing GATEWAY_REDIS_URL). */
  rateLimitMode: z.enum(['local', 'redis']).default('local'),
  /** Where idempotency keys and tenant load live: `local` (this process) or `redis` (shared by every instance). */
  sharedState: z.enum(['local', 'redis']).default('local'),
  /** redis://[user:password@]host:port[/db], or rediss:// for TLS; needed by either redis mode. */
  redisUrl: z
    .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
    .optional(),
  /** PEM file of the CA that signed the Redis server's certificate (rediss://); unset: the system's CAs. */
  redisTlsCaFile: z.string().min(1).optional(),
  /** A Redis call slower than this fails open (the request goes on as if Redis were down). */
  redisTimeoutMs: z.number().int().min(1).max(10_000).default(50),
  /** Prefix of every key ringgate writes to Redis: instances sharing it share limits, keys and load. */
  redisKeyPrefix: z.string().regex(/^[A-Za-z0-9:_.-]{0,64}$/, 'must be up to 64 chars of [A-Za-z0-9:_.-]').default('ringgate:'),
};

/** Their env vars, spread into schema.ts's ENV_VARS. */
export const SHARED_STATE_ENV_VARS = {
  GATEWAY_RATE_LIMIT_MODE: { key: 'rateLimitMode', kind: 'string' },
  GATEWAY_SHARED_STATE: { key: 'sharedState', kind: 'string' },
  GATEWAY_REDIS_URL: { key: 'redisUrl', kind: 'string' },
  GATEWAY_REDIS_TLS_CA_FILE: { key: 'redisTlsCaFile', kind: 'string' },
  GATEWAY_REDIS_TIMEOUT_MS: { key: 'redisTimeoutMs', kind: 'int' },
  GATEWAY_REDIS_KEY_PREFIX: { key: 'redisKeyPrefix', kind: 'string' },
} as const;
