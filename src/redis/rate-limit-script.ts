import type { Redis } from 'ioredis';

/**
 * The sliding-window counter of resilience/sliding-window.ts, as one atomic Lua script: the same
 * algorithm as local mode, so a route's limit means the same in both. One hash per key (its
 * window number, the previous and current windows' counts), expiring after two windows. Time is
 * Redis's own (TIME), not the instances': every instance sees the same window boundaries however
 * their clocks drift. One call counts `hits` requests of the key (a thread's requests of one
 * event-loop turn): as many as fit are allowed, as if they had come one by one. Returns how many
 * were allowed, the remaining after them, ms until the window ends, and, when some were refused,
 * the ms until one more could fit if no other came (a lower bound: others only push it later),
 * which the caller uses to refuse locally until then.
 */
const SLIDING_WINDOW_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local hits = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local number = math.floor(now / window)
local into = now - number * window
local state = redis.call('HMGET', KEYS[1], 'w', 'p', 'c')
local last = tonumber(state[1])
-- Redis's clock one window behind the key's (a failover to a replica whose clock lags a little):
-- counted at that window's start, never as a fresh window. Further behind starts afresh, rather
-- than refuse the key until the clock catches up.
if last and last == number + 1 then
  number, into = last, 0
end
local previous, current = 0, 0
if last == number then
  previous, current = tonumber(state[2]), tonumber(state[3])
elseif last == number - 1 then
  previous = tonumber(state[3])
end
local share = (window - into) / window
local allowed = math.max(0, math.min(hits, math.floor(limit - previous * share - current)))
current = current + allowed
redis.call('HSET', KEYS[1], 'w', number, 'p', previous, 'c', current)
redis.call('PEXPIRE', KEYS[1], window * 2)
local retry = 0
if allowed < hits then
  if current + 1 <= limit then
    retry = math.min(math.ceil(window * (1 - (limit - 1 - current) / previous)) - into, window - into)
  else
    retry = window - into + math.ceil(window * (1 - (limit - 1) / current))
  end
end
return {allowed, math.max(0, math.floor(limit - previous * share - current)), window - into, retry}
`;

const COMMAND = 'ringgateSlidingWindow';

/** A Redis verdict on a key's hits: the fields of the script's reply. */
export type RedisHit = [allowed: number, remaining: number, resetMs: number, retryMs: number];

/** The script bound to one connection: ioredis sends EVALSHA, and EVAL once per connection or after NOSCRIPT (a flushed cache). */
export class SlidingWindowScript {
  readonly #call: (key: string, limit: number, windowMs: number, hits: number) => Promise<RedisHit>;

  constructor(redis: Redis) {
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: SLIDING_WINDOW_LUA });
    const bound = (redis as unknown as Record<string, (key: string, limit: number, windowMs: number, hits: number) => Promise<RedisHit>>)[COMMAND]!;
    this.#call = bound.bind(redis);
  }

  /** Counts as many of `hits` requests for `key` as fit `limit` per `windowMs`. */
  hit(key: string, limit: number, windowMs: number, hits: number): Promise<RedisHit> {
    return this.#call(key, limit, windowMs, hits);
  }
}

/**
 * The Redis key of a limit: the prefix, then the key's hash in braces (a hash tag: on Redis
 * Cluster the key's slot is the tag's), then the window length, so a reload that changes a
 * route's window starts a new count rather than misreading the old one.
 */
export function rateLimitKey(prefix: string, hashHex: string, windowMs: number): string {
  return `${prefix}rl:{${hashHex}}:${windowMs}`;
}
