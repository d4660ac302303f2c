import type { Settings } from '../../config/schema.js';
import type { AnsweredCode } from '../../errors.js';
import { hex64, type TenantKeyer } from '../../hash.js';
import type { RequestRecorder } from '../../metrics/request-recorder.js';
import type { RedisOutage } from '../../redis/outage.js';
import { rateLimitKey, type RedisHit, type SlidingWindowScript } from '../../redis/rate-limit-script.js';
import type { RouteRateLimit } from '../../routing/route-table.js';
import type { RequestContext } from '../request-context.js';
import { readWholeBody, streamRequestBody } from '../request-body.js';
import { WaitingClient } from '../waiting-client.js';
import type { Finisher } from './finish.js';
import { LIMIT_PENDING, limitHeaders, limitSubject, type LimitContinuation, type LimitPhase, type RateLimiting } from './limit.js';

/** Keys refused locally at once: beyond it the list starts over (each key costs one round trip to learn again). */
const MAX_REFUSED_KEYS = 10_000;

/** Until when Redis said no request of a key can fit, and when its window ends (RateLimit-Reset). */
interface Refusal {
  readonly until: number;
  readonly windowEnds: number;
}

/**
 * The limit phase in `redis` mode (GATEWAY_RATE_LIMIT_MODE=redis): the same sliding window as
 * local mode, counted in Redis by every instance sharing it (redis/rate-limit-script.ts), so a
 * limit of L holds for the fleet. A key Redis refused is refused here, without a round trip, until
 * the time Redis said one more could fit at the earliest. Otherwise the request waits for Redis
 * (its body read or streaming meanwhile); when Redis fails or is slower than redisTimeoutMs it
 * fails open: counted, logged now and then, and limited by the local table as in local mode.
 */
export class RedisRateLimiting implements LimitPhase {
  readonly #script: SlidingWindowScript;
  readonly #keyPrefix: string;
  readonly #local: RateLimiting;
  readonly #keyer: TenantKeyer;
  readonly #recorder: RequestRecorder;
  readonly #outage: RedisOutage;
  readonly #finisher: Finisher;
  readonly #bufferBodyBytes: number;
  readonly #maxBodyBytes: number;
  readonly #refused = new Map<string, Refusal>();

  constructor(
    settings: Readonly<Settings>,
    script: SlidingWindowScript,
    local: RateLimiting,
    keyer: TenantKeyer,
    recorder: RequestRecorder,
    outage: RedisOutage,
    finisher: Finisher,
  ) {
    this.#script = script;
    this.#keyPrefix = settings.redisKeyPrefix;
    this.#local = local;
    this.#keyer = keyer;
    this.#recorder = recorder;
    this.#outage = outage;
    this.#finisher = finisher;
    this.#bufferBodyBytes = settings.bufferBodyBytes;
    this.#maxBodyBytes = settings.maxBodyBytes;
  }

  run(ctx: RequestContext, limit: RouteRateLimit, next: LimitContinuation): AnsweredCode | null | typeof LIMIT_PENDING {
    // The route's label, not its slot: every instance must name a route's key alike.
    const subject = `${ctx.plan!.route.label}\n${limitSubject(ctx, limit)}`;
    const sentAt = Date.now();
    const refusal = this.#refused.get(subject);
    if (refusal !== undefined) {
      if (sentAt < refusal.until) return this.#refuse(ctx, limit, 0, refusal.windowEnds - sentAt, refusal.until - sentAt);
      this.#refused.delete(subject);
    }
    const keyer = this.#keyer;
    keyer.hash(subject);
    const key = rateLimitKey(this.#keyPrefix, hex64(keyer.lo, keyer.hi), limit.windowMs);
    const wait = new LimitWait(ctx, this.#finisher, () => this.#decided(ctx, limit, next, wait));
    ctx.client.attach(wait);
    this.#holdBody(ctx, wait);
    this.#script.hit(key, limit.requests, limit.windowMs).then(
      (hit) => {
        if (hit[0] === 0) this.#remember(subject, sentAt, hit);
        wait.verdict(hit);
      },
      (err: Error) => {
        this.#outage.failed('rate_limit', err);
        wait.verdict(null);
      },
    );
    return LIMIT_PENDING;
  }

  /** uWS drops body bytes no handler takes: a small body is read whole meanwhile, a larger one streams (paused when unread). */
  #holdBody(ctx: RequestContext, wait: LimitWait): void {
    if (!ctx.hasBody) return;
    if (!ctx.chunked && ctx.contentLength <= this.#bufferBodyBytes) {
      wait.pending++;
      readWholeBody(ctx.client, ctx.contentLength, (body) => {
        ctx.body = body;
        wait.ready();
      });
    } else {
      ctx.pendingBody = streamRequestBody(ctx.client, this.#maxBodyBytes);
    }
  }

  #decided(ctx: RequestContext, limit: RouteRateLimit, next: LimitContinuation, wait: LimitWait): void {
    const hit = wait.hit;
    if (hit === null) {
      // Fail open: the request passes Redis by, and this instance's own count still applies.
      const code = this.#local.run(ctx, limit);
      return code === null ? next.passedLimit(ctx) : next.fail(ctx, code);
    }
    if (hit[0] === 1) {
      ctx.limitHeaders = limitHeaders(limit, hit[1], hit[2]);
      return next.passedLimit(ctx);
    }
    next.fail(ctx, this.#refuse(ctx, limit, hit[1], hit[2], hit[3]));
  }

  #refuse(ctx: RequestContext, limit: RouteRateLimit, remaining: number, resetMs: number, retryMs: number): AnsweredCode {
    ctx.limitHeaders = limitHeaders(limit, remaining, resetMs);
    ctx.retryAfter = String(Math.max(1, Math.ceil(retryMs / 1000)));
    this.#recorder.recordRateLimited(ctx.routeIndex);
    return 'ERR_RATE_LIMITED';
  }

  /** Refused from when the request was sent: Redis decided after that, so `until` is never late. */
  #remember(subject: string, sentAt: number, hit: RedisHit): void {
    if (this.#refused.size >= MAX_REFUSED_KEYS) this.#refused.clear();
    this.#refused.set(subject, { until: sentAt + hit[3], windowEnds: sentAt + hit[2] });
  }
}

/** A request waiting for its Redis verdict (and its body, when read whole): on when both came, unless the client left. */
class LimitWait extends WaitingClient {
  /** The verdict, then the body if one is being read. */
  pending = 1;
  hit: RedisHit | null = null;
  readonly #onReady: () => void;

  constructor(ctx: RequestContext, finisher: Finisher, onReady: () => void) {
    super(ctx, finisher);
    this.#onReady = onReady;
  }

  /** Redis's verdict, or null: it failed. */
  verdict(hit: RedisHit | null): void {
    this.hit = hit;
    this.ready();
  }

  ready(): void {
    if (--this.pending === 0 && !this.left) this.#onReady();
  }
}
