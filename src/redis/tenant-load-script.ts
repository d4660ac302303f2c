import type { Redis } from 'ioredis';

/**
 * One round trip per scoring window for fleet tenant load (routing/fleet-load.ts): store this
 * instance's publication and read every other instance's, as one atomic Lua script. KEYS[1] is a
 * hash, instance id → its latest publication; KEYS[2] a sorted set, instance id → when it last
 * published. Those times are Redis's own (TIME), one clock for everyone, and serve only to delete
 * the publications of instances silent for ARGV[3] ms (they stopped): which publications count in
 * a score is decided by the publishers' window numbers, not by this. Both keys expire after as
 * long, so a fleet that stops leaves nothing behind.
 */
const EXCHANGE_LUA = `
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local retain = tonumber(ARGV[3])
local silent = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - retain)
for i = 1, #silent do redis.call('HDEL', KEYS[1], silent[i]) end
if #silent > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - retain) end
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], retain)
redis.call('PEXPIRE', KEYS[2], retain)
local all = redis.call('HGETALL', KEYS[1])
local others = {}
for i = 1, #all, 2 do
  if all[i] ~= ARGV[1] then
    others[#others + 1] = all[i]
    others[#others + 1] = all[i + 1]
  end
end
return others
`;

const COMMAND = 'ringgateTenantLoadExchange';

type Exchange = (sums: string, seen: string, instance: string, publication: string, retainMs: number) => Promise<string[]>;

/**
 * The fleet's two keys: the prefix, then one hash tag for both (on Redis Cluster a script may
 * only touch keys of one slot).
 */
export function tenantLoadKeys(prefix: string): { sums: string; seen: string } {
  return { sums: `${prefix}tenant-load:{fleet}:sums`, seen: `${prefix}tenant-load:{fleet}:seen` };
}

/** The script bound to one connection (EVALSHA; EVAL once per connection, or after a flushed cache). */
export class TenantLoadScript {
  readonly #call: Exchange;
  readonly #keys: { sums: string; seen: string };

  constructor(redis: Redis, prefix: string) {
    redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: EXCHANGE_LUA });
    this.#call = (redis as unknown as Record<string, Exchange>)[COMMAND]!.bind(redis);
    this.#keys = tenantLoadKeys(prefix);
  }

  /**
   * Stores `publication` as `instance`'s and resolves with every other instance's, as
   * [id, publication, id, publication, …]. Instances silent for `retainMs` are deleted first.
   */
  exchange(instance: string, publication: string, retainMs: number): Promise<string[]> {
    return this.#call(this.#keys.sums, this.#keys.seen, instance, publication, retainMs);
  }
}
