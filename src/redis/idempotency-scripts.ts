import { Buffer } from 'node:buffer';
import type { Redis } from 'ioredis';

/**
 * Idempotency keys in Redis (GATEWAY_SHARED_STATE=redis), one string per key, so one key is one
 * slot on Redis Cluster and one SET NX decides which instance runs the request:
 *   'I' fingerprint token       in flight: the claim of the request running it, expiring after the
 *                               in-flight TTL, so a claim whose instance died does not hold for good
 *   'D' fingerprint response    done: the stored answer, replayed until the TTL
 * The fingerprint is 16 hex characters.
 */

/** Claim: 0 claimed, 1 in flight, 2 reused (another fingerprint), 3 replay (and the stored response). */
const CLAIM_LUA = `
if redis.call('SET', KEYS[1], 'I' .. ARGV[1] .. ARGV[2], 'NX', 'PX', ARGV[3]) then return {0} end
local stored = redis.call('GET', KEYS[1])
if string.sub(stored, 2, 17) ~= ARGV[1] then return {2} end
if string.sub(stored, 1, 1) == 'I' then return {1} end
return {3, string.sub(stored, 18)}
`;

/**
 * Complete: the claim named by its token, or (a completion sent after its marker ran out) no claim
 * at all; never another claim, nor an answer already kept. Keep the response (ARGV[3] = '1') under
 * the request's fingerprint (ARGV[5]: a later request with the key and another fingerprint is still
 * told so), or let the key go. 1 if it did either.
 */
const COMPLETE_LUA = `
local stored = redis.call('GET', KEYS[1])
if stored then
  if string.sub(stored, 1, 1) ~= 'I' or string.sub(stored, 18) ~= ARGV[1] then return 0 end
elseif ARGV[3] ~= '1' then
  return 0
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], 'D' .. ARGV[5] .. ARGV[2], 'PX', ARGV[4])
else
  redis.call('DEL', KEYS[1])
end
return 1
`;

/** Renew: the claim named by its token holds for ARGV[2] ms more; 1 if it was still ours. */
const RENEW_LUA = `
local stored = redis.call('GET', KEYS[1])
if not stored or string.sub(stored, 1, 1) ~= 'I' or string.sub(stored, 18) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

export const enum RedisClaim {
  Claimed = 0,
  InFlight = 1,
  Reused = 2,
  Replay = 3,
}

type ClaimCall = (key: string, fingerprint: string, token: string, inFlightMs: number) => Promise<[RedisClaim, Buffer?]>;
type CompleteCall = (key: string, token: string, response: Buffer, keep: string, ttlMs: number, fingerprint: string) => Promise<number>;
type RenewCall = (key: string, token: string, inFlightMs: number) => Promise<number>;

/** The scripts bound to one connection (EVALSHA; EVAL once per connection or after NOSCRIPT). */
export class IdempotencyScripts {
  readonly #claim: ClaimCall;
  readonly #complete: CompleteCall;
  readonly #renew: RenewCall;
  readonly #redis: Redis;

  constructor(redis: Redis) {
    this.#redis = redis;
    redis.defineCommand('ringgateIdempotencyClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
    redis.defineCommand('ringgateIdempotencyComplete', { numberOfKeys: 1, lua: COMPLETE_LUA });
    redis.defineCommand('ringgateIdempotencyRenew', { numberOfKeys: 1, lua: RENEW_LUA });
    const commands = redis as unknown as Record<string, (...args: unknown[]) => Promise<never>>;
    // The Buffer variant: a stored response is bytes, not text.
    this.#claim = commands.ringgateIdempotencyClaimBuffer!.bind(redis) as ClaimCall;
    this.#complete = commands.ringgateIdempotencyComplete!.bind(redis) as CompleteCall;
    this.#renew = commands.ringgateIdempotencyRenew!.bind(redis) as RenewCall;
  }

  claim(key: string, fingerprint: string, token: string, inFlightMs: number): Promise<[RedisClaim, Buffer?]> {
    return this.#claim(key, fingerprint, token, inFlightMs);
  }

  /** Holds the claim `token` for `inFlightMs` more, if it still holds the key; 1 if it did. */
  renew(key: string, token: string, inFlightMs: number): Promise<number> {
    return this.#renew(key, token, inFlightMs);
  }

  /** Calls `listener` each time the connection is back (ready) after it was lost. */
  onReconnect(listener: () => void): void {
    this.#redis.on('ready', listener);
  }

  /**
   * Stores `response` (of the request with `fingerprint`) for `ttlMs`, or (null) deletes the key,
   * if the claim `token` still holds it; a response also if nothing does (the claim ran out).
   */
  complete(key: string, fingerprint: string, token: string, response: Uint8Array | null, ttlMs: number): Promise<number> {
    const bytes = response === null ? EMPTY : Buffer.from(response.buffer, response.byteOffset, response.byteLength);
    return this.#complete(key, token, bytes, response === null ? '0' : '1', ttlMs, fingerprint);
  }
}

const EMPTY = Buffer.alloc(0);

/** A key's Redis name: the prefix, then the key's hash as a hash tag. */
export function idempotencyKey(prefix: string, hashHex: string): string {
  return `${prefix}idem:{${hashHex}}`;
}
