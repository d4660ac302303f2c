import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { Settings } from '../../config/schema.js';
import type { AnsweredCode } from '../../errors.js';
import type { BytesDigest, TenantKeyer } from '../../hash.js';
import { FreshNameSet } from '../../name-set.js';
import { ClaimResult } from '../../shm/idempotency-table.js';
import { statusLine } from '../answers.js';
import type { HeldKey, IdempotencyStore } from '../idempotency-store.js';
import type { RequestContext } from '../request-context.js';
import { IDEMPOTENCY_KEY_REPEATED } from '../request-head.js';
import { readWholeBody } from '../request-body.js';
import { decodeResponse, ResponseCapture } from '../stored-response.js';
import { WaitingClient } from '../waiting-client.js';
import type { Finisher } from './finish.js';
import type { HeaderField } from '../client-contract.js';

/** The writes an Idempotency-Key guards (draft-ietf-httpapi-idempotency-key-header). */
const WRITE_METHODS = new FreshNameSet(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_KEY_LENGTH = 255;
/** Said on a replay, after the stored headers and before the client's own RateLimit ones. */
const REPLAYED: readonly HeaderField[] = ['idempotent-replayed', 'true'];
const EMPTY = new Uint8Array(0);

/** How the request path goes on after a phase that may finish later (the runner). */
export interface Continuation {
  /** On to select and forward. */
  resume(ctx: RequestContext): void;
  /** Answer the gateway's error. */
  fail(ctx: RequestContext, code: AnsweredCode): void;
}

/**
 * The limit phase's Idempotency-Key rule (issue 12), on routes with `idempotency`: a write
 * without a key is refused (`required`) or passes (`optional`); with one, its body is read whole
 * (a fingerprint needs all of it), then the key, scoped by tenant, is claimed in the store. A
 * duplicate while the first is in flight is refused, one after it completed gets the stored
 * answer (marked Idempotent-Replayed), one with another method, path or body is refused.
 */
export class IdempotencyCheck {
  readonly #store: IdempotencyStore;
  readonly #keyer: TenantKeyer;
  readonly #digest: BytesDigest;
  readonly #finisher: Finisher;
  readonly #bufferBodyBytes: number;

  constructor(settings: Readonly<Settings>, store: IdempotencyStore, keyer: TenantKeyer, digest: BytesDigest, finisher: Finisher) {
    this.#store = store;
    this.#keyer = keyer;
    this.#digest = digest;
    this.#finisher = finisher;
    this.#bufferBodyBytes = settings.bufferBodyBytes;
  }

  run(ctx: RequestContext, mode: 'required' | 'optional', next: Continuation): void {
    if (!WRITE_METHODS.has(ctx.method)) return next.resume(ctx);
    const key = ctx.idempotencyKey;
    if (key === IDEMPOTENCY_KEY_REPEATED) return next.fail(ctx, 'ERR_IDEMPOTENCY_KEY_REPEATED');
    if (key === '' || key.length > MAX_KEY_LENGTH) {
      return mode === 'required' || key !== '' ? next.fail(ctx, 'ERR_IDEMPOTENCY_KEY_MISSING') : next.resume(ctx);
    }
    const wait = this.#store.waits ? this.#watch(ctx) : null;
    if (!ctx.hasBody) return this.#decide(ctx, EMPTY, wait, next);
    // Read whole already, while the rate limit's verdict came.
    if (ctx.body !== null) return this.#decide(ctx, ctx.body, wait, next);
    // The fingerprint covers the whole body: it must fit in memory as one piece.
    if (ctx.chunked || ctx.contentLength > this.#bufferBodyBytes) return next.fail(ctx, 'ERR_BODY_TOO_LARGE');
    const reading = wait ?? this.#watch(ctx);
    readWholeBody(ctx.client, ctx.contentLength, (body) => {
      if (reading.left) return;
      ctx.bodyRead(body, performance.now());
      this.#decide(ctx, body, wait, next);
    });
  }

  /** A client leaving while the request waits ends it there. */
  #watch(ctx: RequestContext): WaitingClient {
    const wait = new WaitingClient(ctx, this.#finisher);
    ctx.client.attach(wait);
    return wait;
  }

  /** `wait`: set when the store's verdict may come later. */
  #decide(ctx: RequestContext, body: Uint8Array, wait: WaitingClient | null, next: Continuation): void {
    const keyer = this.#keyer;
    keyer.hash(`${ctx.tenant}\n${ctx.idempotencyKey}`);
    const key = { lo: keyer.lo, hi: keyer.hi };
    keyer.hash(`${ctx.method} ${ctx.target} ${this.#digest(body)}`);
    this.#store.claim(key, { lo: keyer.lo, hi: keyer.hi }, (result, held, replay) => {
      if (wait?.left === true) {
        // Gone while Redis decided: a claim it won is let go at once.
        if (held !== null) this.#store.complete(held, null);
        return;
      }
      this.#claimed(ctx, result, held, replay, next);
    });
  }

  #claimed(ctx: RequestContext, result: ClaimResult, held: HeldKey | null, replay: Buffer | null, next: Continuation): void {
    switch (result) {
      case ClaimResult.Claimed:
        ctx.heldKey = held;
        ctx.capture = new ResponseCapture(this.#store.maxResponseBytes);
        return next.resume(ctx);
      case ClaimResult.InFlight:
        return next.fail(ctx, 'ERR_IDEMPOTENCY_IN_FLIGHT');
      case ClaimResult.Reused:
        return next.fail(ctx, 'ERR_IDEMPOTENCY_KEY_REUSED');
      case ClaimResult.Full:
        return next.fail(ctx, 'ERR_IDEMPOTENCY_TABLE_FULL');
      case ClaimResult.Replay: {
        const stored = decodeResponse(replay!);
        ctx.status = stored.status;
        const own = ctx.limitHeaders === null ? REPLAYED : [...REPLAYED, ...ctx.limitHeaders];
        ctx.client.answerStored(statusLine(stored.status), stored.fields, stored.body, own, stored.status === 204 || stored.status === 304);
        this.#finisher.replayed(ctx);
      }
    }
  }
}
