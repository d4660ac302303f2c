import { performance } from 'node:perf_hooks';
import type { Settings } from '../../config/schema.js';
import type { AnsweredCode } from '../../errors.js';
import { subjectDigest } from '../../hash.js';
import type { RequestRecorder } from '../../metrics/request-recorder.js';
import type { RedisOutage } from '../../redis/outage.js';
import { rateLimitKey, type RedisHit, type SlidingWindowScript } from '../../redis/rate-limit-script.js';
import type { RouteRateLimit } from '../../routing/route-table.js';
import type { RequestContext } from '../request-context.js';
import { readWholeBody, streamRequestBody } from '../request-body.js';
import { WaitingClient } from '../waiting-client.js';
import type { Finisher } from './finish.js';
import { LIMIT_PENDING, limitHeaders, type LimitContinuation, type LimitPhase, type RateLimiting } from './limit.js';

/** Keys refused locally at once: beyond it the list starts over (each key costs one round trip to learn again). */
const MAX_REFUSED_KEYS = 10_000;

/**
 * Until when Redis said no request of a key can fit, and when its window ends (RateLimit-Reset), in
 * performance.now() ms: on the wall clock, a step back would hold the key refused for the step.
 */
interface Refusal {
  readonly until: number;
  readonly windowEnds: number;
}

/**
 * The limit phase in `redis` mode (GATEWAY_RATE_LIMIT_MODE=redis): the same sliding window as
 * local mode, counted in Redis by every instance sharing it (redis/rate-limit-script.ts), so a
 * limit of L holds for the fleet. A key Redis refused is refused here, without a round trip, until
 * the time Redis said one more could fit at the earliest. Otherwise the request waits for Redis
 * (its body read or streaming meanwhile); the thread's requests for one key in one event-loop turn
 * share one script call. When Redis fails or is slower than redisTimeoutMs it fails open: counted,
 * logged now and then, and limited by the local table as in local mode.
 */
export class RedisRateLimiting implements LimitPhase {
  readonly #script: SlidingWindowScript;
  readonly #keyPrefix: string;
  readonly #local: RateLimiting;
  readonly #recorder: RequestRecorder;
  readonly #outage: RedisOutage;
  readonly #finisher: Finisher;
  readonly #bufferBodyBytes: number;
  readonly #maxBodyBytes: number;
  readonly #refused = new Map<string, Refusal>();
  /**
   * This turn's hits, by Redis key: sent together once the turn's I/O is handled. A new Map each
   * turn, not clear(): V8 gives a cleared Map a new table in the generation of the old one, and an
   * old-generation table left behind keeps the requests it held alive until a full GC (open-calls.ts).
   */
  #queued = new Map<string, KeyHits>();
  readonly #send = (): void => this.#sendQueued();

  constructor(
    settings: Readonly<Settings>,
    script: SlidingWindowScript,
    local: RateLimiting,
    recorder: RequestRecorder,
    outage: RedisOutage,
    finisher: Finisher,
  ) {
    this.#script = script;
    this.#keyPrefix = settings.redisKeyPrefix;
    this.#local = local;
    this.#recorder = recorder;
    this.#outage = outage;
    this.#finisher = finisher;
    this.#bufferBodyBytes = settings.bufferBodyBytes;
    this.#maxBodyBytes = settings.maxBodyBytes;
  }

  run(ctx: RequestContext, limit: RouteRateLimit, next: LimitContinuation): AnsweredCode | null | typeof LIMIT_PENDING {
    const subject = this.#local.key(ctx, limit);
    if (subject === null) return 'ERR_LIMIT_HEADER_REPEATED';
    const key = rateLimitKey(this.#keyPrefix, subjectDigest(subject), limit.windowMs);
    const now = performance.now();
    const refusal = this.#refused.get(key);
    if (refusal !== undefined) {
      if (now < refusal.until) return this.#refuse(ctx, limit, 0, untilWindowEnds(refusal.windowEnds, now, limit.windowMs), refusal.until - now);
      this.#refused.delete(key);
    }
    const wait = new LimitWait(ctx, this.#finisher, () => this.#decided(ctx, limit, next, wait));
    ctx.client.attach(wait);
    this.#holdBody(ctx, wait);
    let hits = this.#queued.get(key);
    if (hits === undefined) {
      if (this.#queued.size === 0) setImmediate(this.#send);
      hits = { limit, firstAt: now, waits: [] };
      this.#queued.set(key, hits);
    }
    hits.waits.push(wait);
    return LIMIT_PENDING;
  }

  #sendQueued(): void {
    const queued = this.#queued;
    this.#queued = new Map();
    for (const [key, hits] of queued) {
      const { waits, limit } = hits;
      this.#script.hit(key, limit.requests, limit.windowMs, waits.length).then(
        (reply) => {
          const [allowed, remaining, resetMs, retryMs] = reply;
          if (allowed < waits.length) this.#remember(key, hits, reply);
          // In arrival order, as the script counted them: the first `allowed` passed.
          for (let i = 0; i < waits.length; i++) {
            waits[i]!.decide(i < allowed ? Verdict.Allowed : Verdict.Refused, i < allowed ? remaining + allowed - 1 - i : 0, resetMs, retryMs);
          }
        },
        (err: Error) => {
          this.#outage.failed('rate_limit', err, waits.length);
          for (const wait of waits) wait.decide(Verdict.Failed, 0, 0, 0);
        },
      );
    }
  }

  /** uWS drops body bytes no handler takes: a small body is read whole meanwhile, a larger one streams (paused when unread). */
  #holdBody(ctx: RequestContext, wait: LimitWait): void {
    if (!ctx.hasBody) return;
    if (!ctx.chunked && ctx.contentLength <= this.#bufferBodyBytes) {
      wait.pending++;
      readWholeBody(ctx.client, ctx.contentLength, (body) => {
        ctx.bodyRead(body, performance.now());
        wait.ready();
      });
    } else {
      const body = streamRequestBody(ctx.client, this.#maxBodyBytes);
      // Nobody reads it before the verdict: an over-limit body's error is looked at then, not thrown.
      body.stream.on('error', () => {});
      ctx.pendingBody = body;
    }
  }

  #decided(ctx: RequestContext, limit: RouteRateLimit, next: LimitContinuation, wait: LimitWait): void {
    const body = ctx.pendingBody;
    // Past GATEWAY_MAX_BODY_BYTES while the verdict came: 413, once the client has sent the rest
    // (the answer to a refused request waits for its unread body: request-runner.ts).
    if (body !== null && body.stream.errored !== null) return next.fail(ctx, 'ERR_BODY_TOO_LARGE');
    if (wait.verdict === Verdict.Failed) {
      // Fail open: the request passes Redis by, and this instance's own count still applies.
      const code = this.#local.run(ctx, limit);
      return code === null ? next.passedLimit(ctx) : next.fail(ctx, code);
    }
    if (wait.verdict === Verdict.Allowed) {
      ctx.limitHeaders = limitHeaders(limit, wait.remaining, wait.resetMs);
      return next.passedLimit(ctx);
    }
    next.fail(ctx, this.#refuse(ctx, limit, 0, wait.resetMs, wait.retryMs));
  }

  #refuse(ctx: RequestContext, limit: RouteRateLimit, remaining: number, resetMs: number, retryMs: number): AnsweredCode {
    ctx.limitHeaders = limitHeaders(limit, remaining, resetMs);
    ctx.retryAfter = String(Math.max(1, Math.ceil(retryMs / 1000)));
    this.#recorder.recordRateLimited(ctx.routeIndex);
    return 'ERR_RATE_LIMITED';
  }

  /**
   * Refused from when the first of the hits came: Redis decided after that, so `until` is never late.
   * Kept by its Redis key, a digest: a subject a client chose (a header's value, up to a whole
   * head) kept for each of MAX_REFUSED_KEYS would hold a thread's heap hostage.
   */
  #remember(key: string, hits: KeyHits, [, , resetMs, retryMs]: RedisHit): void {
    if (this.#refused.size >= MAX_REFUSED_KEYS) this.#refused.clear();
    this.#refused.set(key, { until: hits.firstAt + retryMs, windowEnds: hits.firstAt + resetMs });
  }
}

/** Ms until the fixed window that ended at `windowEnds` (or a later one) ends: refusals can outlast a window. */
export function untilWindowEnds(windowEnds: number, now: number, windowMs: number): number {
  const left = windowEnds - now;
  return left > 0 ? left : windowMs - (-left % windowMs);
}

/** A key's requests of one event-loop turn, waiting to be counted by one script call. */
interface KeyHits {
  readonly limit: RouteRateLimit;
  /** performance.now() of the first. */
  readonly firstAt: number;
  readonly waits: LimitWait[];
}

const enum Verdict {
  Pending,
  Allowed,
  Refused,
  /** Redis failed or was too slow: fail open. */
  Failed,
}

/** A request waiting for its Redis verdict (and its body, when read whole): on when both came, unless the client left. */
class LimitWait extends WaitingClient {
  /** The verdict, then the body if one is being read. */
  pending = 1;
  verdict = Verdict.Pending;
  remaining = 0;
  resetMs = 0;
  retryMs = 0;
  readonly #onReady: () => void;

  constructor(ctx: RequestContext, finisher: Finisher, onReady: () => void) {
    super(ctx, finisher);
    this.#onReady = onReady;
  }

  decide(verdict: Verdict, remaining: number, resetMs: number, retryMs: number): void {
    this.verdict = verdict;
    this.remaining = remaining;
    this.resetMs = resetMs;
    this.retryMs = retryMs;
    this.ready();
  }

  ready(): void {
    if (--this.pending === 0 && !this.left) this.#onReady();
  }
}
