import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { metricValue, startGateway } from '../helpers/gateway-process.js';
import { expectError, send } from '../helpers/http.js';
import { startRedis, type RedisOptions } from '../helpers/redis-server.js';
import { scratchDir } from '../helpers/scratch.js';

let backend: Backend;
let pki: { ca: string; cert: string; key: string };

/** A throwaway CA and a server certificate for 127.0.0.1 it signed (openssl). */
function makePki(): { ca: string; cert: string; key: string } {
  const dir = scratchDir('ringgate-redis-tls-');
  const at = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=ringgate test CA', '-keyout', at('ca.key'), '-out', at('ca.pem'));
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', at('server.key'), '-out', at('server.csr'));
  writeFileSync(at('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', at('san.ext'), '-out', at('server.pem'));
  return { ca: at('ca.pem'), cert: at('server.pem'), key: at('server.key') };
}

const CONFIG = (url: string) => ({
  routes: [{ prefix: '/', cluster: 'c', rateLimit: { requests: 2, windowMs: 60_000 } }],
  clusters: { c: { nodes: [{ id: 'r0', url }] } },
});

beforeAll(async () => {
  backend = await startBackend('r0');
  pki = makePki();
});

afterAll(async () => {
  await backend?.close();
});

/** A gateway limiting through the Redis started with `options`: the limit holds, and no call failed. */
async function limitsThrough(options: RedisOptions, env: Record<string, string> = {}): Promise<void> {
  const redis = await startRedis(options);
  // A generous timeout: a loaded machine must not make a call fail open once the connection is up.
  const gateway = await startGateway(CONFIG(backend.url), {
    GATEWAY_THREADS: '1',
    GATEWAY_RATE_LIMIT_MODE: 'redis',
    GATEWAY_REDIS_URL: redis.url,
    GATEWAY_REDIS_TIMEOUT_MS: '2000',
    ...env,
  });
  const client = new Redis(redis.url, options.tls === undefined ? {} : { tls: { ca: readFileSync(options.tls.ca) } });
  let warmCalls = 0;
  try {
    // The first calls may go before the connection is up (and fail open, counted locally): wait
    // until Redis holds a count, then start from none.
    const counted = async (): Promise<string[]> => client.keys('ringgate:rl:*');
    const warm = async (): Promise<number> => {
      warmCalls++;
      await send(gateway.port, '/x', { tenant: 'warm' });
      return (await counted()).length;
    };
    await expect.poll(warm, { timeout: 10_000, interval: 100 }).toBeGreaterThan(0);
    await client.del(...(await counted()));
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(gateway.port, '/x', { tenant: 'through' })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expectError(await send(gateway.port, '/x', { tenant: 'through' }), 'ERR_RATE_LIMITED');
    // Counted in Redis, not by the local fallback (which would refuse the same way): its key holds the count.
    const keys = await counted();
    expect(await Promise.all(keys.map((key) => client.hget(key, 'c')))).toEqual(['2']);
  } finally {
    client.disconnect();
    const errors = metricValue(await gateway.metrics(), 'ringgate_redis_errors_total', 'use="rate_limit"');
    expect(await gateway.stop()).toBe(0);
    await redis.kill();
    // Only calls made before the first connection was up: every warm-up call but the last.
    expect(errors).toBeLessThanOrEqual(Math.max(0, warmCalls - 1));
  }
}

describe('connecting to Redis', () => {
  it('authenticates with the password in GATEWAY_REDIS_URL', async () => {
    await limitsThrough({ password: 'a secret/with:odd@chars' });
  });

  it('speaks TLS to a rediss:// URL, trusting the CA of GATEWAY_REDIS_TLS_CA_FILE', async () => {
    await limitsThrough({ tls: pki }, { GATEWAY_REDIS_TLS_CA_FILE: pki.ca });
  });

  it('fails open, never trusting a server whose certificate its CA did not sign', async () => {
    const redis = await startRedis({ tls: pki });
    // The system's CAs: the test CA is not among them.
    const gateway = await startGateway(CONFIG(backend.url), { GATEWAY_THREADS: '1', GATEWAY_RATE_LIMIT_MODE: 'redis', GATEWAY_REDIS_URL: redis.url });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(gateway.port, '/x', { tenant: 'untrusted' })).status);
      // Limited by the instance's own table, as while Redis is down.
      expect(statuses).toEqual([200, 200, 429, 429]);
      expect(metricValue(await gateway.metrics(), 'ringgate_redis_errors_total', 'use="rate_limit"')).toBe(4);
      expect(gateway.logs.some((line) => line.includes('redis connection error'))).toBe(true);
    } finally {
      expect(await gateway.stop()).toBe(0);
      await redis.kill();
    }
  });
});
