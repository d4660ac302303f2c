import { Buffer } from 'node:buffer';
import type { AnsweredCode } from '../../errors.js';
import type { TenantKeyer } from '../../hash.js';
import type { RequestRecorder } from '../../metrics/request-recorder.js';
import type { RouteRateLimit } from '../../routing/route-table.js';
import { hitLimit, type Hit, type LimiterTable } from '../../shm/limiter-table.js';
import type { LimitAddresses } from '../limit-address.js';
import type { RequestContext } from '../request-context.js';
import type { HeaderField } from '../client-contract.js';

const LIMIT = Buffer.from('ratelimit-limit');
const REMAINING = Buffer.from('ratelimit-remaining');
const RESET = Buffer.from('ratelimit-reset');

/** The limit phase's verdict will come later, through the LimitContinuation (redis mode). */
export const LIMIT_PENDING = 'pending';

/** How the request path goes on after a verdict that came later (the runner). */
export interface LimitContinuation {
  /** Within the limit: on to the phases after it. */
  passedLimit(ctx: RequestContext): void;
  fail(ctx: RequestContext, code: AnsweredCode): void;
}

/** A rate limit's check: a refusal's code, null (passed), or LIMIT_PENDING (the continuation hears of it). */
export interface LimitPhase {
  run(ctx: RequestContext, limit: RouteRateLimit, next: LimitContinuation): AnsweredCode | null | typeof LIMIT_PENDING;
}

/**
 * The limit phase's rate limit (issue 13), on routes with `rateLimit`, `local` mode: one sliding
 * window per key in the limiter table all threads share, so a limit of L holds for the process.
 * The key is the route and the tenant (or the address, a header's value, or nothing: the whole
 * route). Every answer of the route carries RateLimit-Limit / -Remaining / -Reset (IETF draft);
 * a refusal is 429 ERR_RATE_LIMITED with Retry-After.
 */
export class RateLimiting implements LimitPhase {
  readonly #table: LimiterTable;
  readonly #keyer: TenantKeyer;
  readonly #recorder: RequestRecorder;
  readonly #addresses: LimitAddresses;
  readonly #hit: Hit = { allowed: false, remaining: 0, resetMs: 0, retryMs: 0 };

  constructor(table: LimiterTable, keyer: TenantKeyer, recorder: RequestRecorder, addresses: LimitAddresses) {
    this.#table = table;
    this.#keyer = keyer;
    this.#recorder = recorder;
    this.#addresses = addresses;
  }

  run(ctx: RequestContext, limit: RouteRateLimit): AnsweredCode | null {
    const plan = ctx.plan!;
    let keyLo = plan.limitKeyLo;
    let keyHi = plan.limitKeyHi;
    // A route's key, and a tenant's on it, come from hashes made already (the route's label at
    // config load, the tenant's id at admission): a tenant's is the two XORed. Meeting another
    // key with a forged tenant id takes the process's secret seed (hash.ts newTableKeySeed). By address
    // or header, the route's label and the value are hashed together, as Redis mode names keys.
    if (limit.by === 'tenant' && ctx.tenant !== '') {
      keyLo ^= ctx.tenantKeyLo;
      keyHi ^= ctx.tenantKeyHi;
    } else if (limit.by !== 'route') {
      const key = this.key(ctx, limit);
      if (key === null) return 'ERR_LIMIT_HEADER_REPEATED';
      this.#keyer.hash(key);
      keyLo = this.#keyer.lo;
      keyHi = this.#keyer.hi;
    }
    const hit = this.#hit;
    hitLimit(this.#table, keyLo, keyHi, limit.requests, limit.windowMs, Date.now(), hit);
    ctx.limitHeaders = limitHeaders(limit, hit.remaining, hit.resetMs);
    if (hit.allowed) return null;
    ctx.retryAfter = String(Math.ceil(hit.retryMs / 1000));
    this.#recorder.recordRateLimited(ctx.routeIndex);
    return 'ERR_RATE_LIMITED';
  }

  /**
   * A count's key: the route's label, not its metric slot (a thread started after a reload numbers
   * the routes anew, and every instance must name a route's key alike), and whom it counts; null
   * when the header it counts by came more than once (ERR_LIMIT_HEADER_REPEATED).
   */
  key(ctx: RequestContext, limit: RouteRateLimit): string | null {
    const subject = this.#subject(ctx, limit);
    return subject === null ? null : `${ctx.plan!.route.label}\n${subject}`;
  }

  /** Whom the limit counts: a request without what its rule names counts by its address (LimitAddresses). */
  #subject(ctx: RequestContext, limit: RouteRateLimit): string | null {
    if (limit.by === 'route') return '';
    if (limit.by === 'tenant' && ctx.tenant !== '') return `t:${ctx.tenant}`;
    if (limit.by !== 'tenant' && limit.by !== 'address') {
      const headers = ctx.headers;
      const name = limit.by.header;
      let value: string | null = null;
      for (let i = 0; i < headers.length; i += 2) {
        if (headers[i] !== name) continue;
        // Counted by one value, the node would see both: a new value in front of a spent one (which a node may take) would never be counted.
        if (value !== null) return null;
        value = headers[i + 1]!;
      }
      if (value !== null) return `h:${value}`;
    }
    return `a:${this.#addresses.of(ctx)}`;
  }
}

/** RateLimit-Limit / -Remaining / -Reset (seconds, rounded up) as header pairs; the per-request values as strings (no Buffer each). */
export function limitHeaders(limit: RouteRateLimit, remaining: number, resetMs: number): HeaderField[] {
  return [LIMIT, limit.requestsHeader, REMAINING, String(remaining), RESET, String(Math.ceil(resetMs / 1000))];
}
