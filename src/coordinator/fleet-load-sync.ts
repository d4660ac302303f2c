import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Settings } from '../config/schema.js';
import type { Logger } from '../log.js';
import { connectRedis } from '../redis/connection.js';
import { RedisOutage, type RedisUse } from '../redis/outage.js';
import { TenantLoadScript } from '../redis/tenant-load-script.js';
import { decodeWindow, encodeWindow } from '../routing/fleet-load-record.js';
import { FleetLoad, STALE_AFTER_WINDOWS, type FleetExchange, type LocalTenantWindow, type WindowSums } from '../routing/fleet-load.js';

type FleetSettings = Pick<Settings, 'redisUrl' | 'redisTlsCaFile' | 'redisTimeoutMs' | 'redisKeyPrefix' | 'scoreWindowMs' | 'errorPenaltyMs'>;

/**
 * Redis deletes a silent instance's publication after this many of the windows of whoever
 * publishes next, or RETAIN_MIN_MS if longer: far past STALE_AFTER_WINDOWS, so it only bounds
 * what a stopped instance leaves behind, and publishers with windows up to 10× longer than
 * another's are not taken for silent.
 */
const RETAIN_WINDOWS = 10 * STALE_AFTER_WINDOWS;
const RETAIN_MIN_MS = 10_000;

/**
 * Redis mode's tenant load (issue 13), for the tenant tracker. Each window, once the tracker has
 * scored it, one round trip publishes this instance's sums and reads the other instances'
 * (tenant-load-script.ts). The tracker never waits for it: the next window merges what it brought,
 * so the others' sums are one window late. A call that fails or outlasts GATEWAY_REDIS_TIMEOUT_MS
 * is counted (ringgate_redis_errors_total{use="tenant_load"}), logged at most once per interval,
 * and brings nothing: within STALE_AFTER_WINDOWS the others drop out and the tracker scores this
 * instance's sums alone (fail open) until Redis answers again; ioredis reconnects on its own.
 */
export class FleetLoadSync implements FleetExchange {
  /** This process among the fleet: random, so a restarted instance is a new one. */
  readonly instance = randomUUID();
  readonly #redis: Redis;
  readonly #script: TenantLoadScript;
  readonly #outage: RedisOutage;
  readonly #fleet: FleetLoad;
  readonly #windowMs: number;
  readonly #errorPenaltyMs: number;
  readonly #retainMs: number;
  /** The window last scored: what the admin API's count of instances is taken at. */
  #window = 0;
  #calling = false;

  constructor(settings: FleetSettings, log: Logger, countErrors: (use: RedisUse, failures: number) => void) {
    this.#outage = new RedisOutage(log, countErrors);
    this.#redis = connectRedis(settings, this.#outage, 'ringgate-fleet-load');
    this.#script = new TenantLoadScript(this.#redis, settings.redisKeyPrefix);
    this.#fleet = new FleetLoad(settings.scoreWindowMs);
    this.#windowMs = settings.scoreWindowMs;
    this.#errorPenaltyMs = settings.errorPenaltyMs;
    this.#retainMs = Math.max(RETAIN_MIN_MS, RETAIN_WINDOWS * settings.scoreWindowMs);
    log.info({ instance: this.instance }, 'sharing tenant load through redis');
  }

  /** Other instances whose sums count in the windows scored now. */
  get instances(): number {
    return this.#fleet.instances(this.#window);
  }

  remoteSums(window: number): ReadonlyMap<string, WindowSums> {
    this.#window = window;
    return this.#fleet.remoteSums(window);
  }

  publish(window: number, tenants: Iterable<LocalTenantWindow>): void {
    // With GATEWAY_REDIS_TIMEOUT_MS longer than a window, a slow Redis must not get calls piling up.
    if (this.#calling) return;
    this.#calling = true;
    const publication = encodeWindow(window, this.#windowMs, tenants, this.#errorPenaltyMs);
    this.#script.exchange(this.instance, publication, this.#retainMs).then(
      (others) => {
        this.#calling = false;
        for (let i = 0; i + 1 < others.length; i += 2) {
          const published = decodeWindow(others[i + 1]!);
          if (published !== null) this.#fleet.receive(others[i]!, published, window);
        }
      },
      (err: Error) => {
        this.#calling = false;
        this.#outage.failed('tenant_load', err);
      },
    );
  }

  /** Drops the connection at once: a graceful QUIT could wait on a Redis that is down. */
  close(): void {
    this.#redis.disconnect();
  }
}
