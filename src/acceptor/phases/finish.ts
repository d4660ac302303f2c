import { performance } from 'node:perf_hooks';
import type { RequestRecorder } from '../../metrics/request-recorder.js';
import { PASSIVE_DEFAULTS } from '../../resilience/node-health.js';
import type { ZoneCrossings } from '../../metrics/zone-crossings.js';
import type { AnsweredCode } from '../../errors.js';
import { finishNodeRequest, NodeOutcome, recordCacheLookup, recordNodeOutcome, type NodeTable } from '../../shm/node-table.js';
import { recordOwnAnswer, recordRequest, type TenantTable } from '../../shm/tenant-table.js';
import { probePeriod, recordBreakerEnding, recordProbeEnding, returnProbeToken, type BreakerTable } from '../../shm/breaker-table.js';
import { endRetry, type RetryTable } from '../../shm/retry-table.js';
import { latencyBucket } from '../../resilience/latency-histogram.js';
import type { HeldKey, IdempotencyStore } from '../idempotency-store.js';
import { CLIENT_CLOSED_STATUS, type RequestContext } from '../request-context.js';
import type { RequestObserver } from '../request-observer.js';
import { OpenRequests } from '../open-requests.js';

/**
 * The one place a request's ending is recorded, whatever it was (answered by the gateway, proxied,
 * aborted by the client, failed upstream): route metrics, error code, tenant counters, the
 * node's in-flight count and retry-budget claim, its passive health and breaker counters and zone
 * crossings, each exactly once (a try that failed and was retried is recorded for its node when
 * the retry is decided). It also keeps the thread's count of open requests, which a drain waits for.
 */
export class Finisher {
  readonly #recorder: RequestRecorder;
  readonly #tenants: TenantTable;
  readonly #nodes: NodeTable;
  readonly #lane: number;
  readonly #crossings: ZoneCrossings;
  readonly #breakers: BreakerTable;
  readonly #retries: RetryTable;
  readonly #idempotency: IdempotencyStore;
  /** The access log (and tracing) when on; null: nothing hears of endings. */
  readonly #observer: RequestObserver | null;
  readonly #requests = new OpenRequests();
  readonly #onSettled: (epoch: number) => void;
  #onIdle: (() => void) | null = null;
  /** Told, with the time, each time the thread's last open request ends (the idle scavenge), when on. */
  idleListener: ((now: number) => void) | null = null;
  /** The drain's deadline passed: the requests still open end because the gateway closes their connections. */
  #cutting = false;

  constructor(
    recorder: RequestRecorder,
    crossings: ZoneCrossings,
    tables: { tenants: TenantTable; nodes: NodeTable; breakers: BreakerTable; retries: RetryTable; idempotency: IdempotencyStore },
    lane: number,
    observer: RequestObserver | null,
    onSettled: (epoch: number) => void = () => {},
  ) {
    this.#onSettled = onSettled;
    this.#observer = observer;
    const { tenants, nodes, breakers, retries, idempotency } = tables;
    this.#idempotency = idempotency;
    this.#recorder = recorder;
    this.#breakers = breakers;
    this.#retries = retries;
    this.#crossings = crossings;
    this.#tenants = tenants;
    this.#nodes = nodes;
    this.#lane = lane;
  }

  /** Requests begun and not finished yet. */
  get open(): number {
    return this.#requests.count;
  }

  get draining(): boolean {
    return this.#onIdle !== null;
  }

  begin(ctx: RequestContext): void {
    ctx.generation = this.#requests.begin();
  }

  /**
   * The thread runs the topology of `epoch` from now on: once every request begun before has
   * ended, none can touch a slot that topology no longer has, and the coordinator hears so.
   */
  newEpoch(epoch: number): void {
    this.#requests.afterOpenEnd(() => this.#onSettled(epoch));
  }

  /** Calls `then` once every request open now has ended (retired pools close then). */
  afterOpenEnd(then: () => void): void {
    this.#requests.afterOpenEnd(then);
  }

  /** From now on the gateway's answers close their connection; `onIdle` once no request is open. */
  startDrain(onIdle: () => void): void {
    this.#onIdle = onIdle;
    if (this.#requests.count === 0) onIdle();
  }

  /**
   * The drain deadline passed: what ends now as a client that left (499) was cut by the gateway,
   * and says so (ERR_SHUTTING_DOWN) in the access log, traces and error metrics.
   */
  cutOpenRequests(): void {
    this.#cutting = true;
  }

  /** The node is done with the request's current try (it may still be streaming to the client). */
  nodeDone(ctx: RequestContext): void {
    if (!ctx.nodeHeld) return;
    ctx.nodeHeld = false;
    finishNodeRequest(this.#nodes, this.#lane, ctx.node, ctx.cluster);
    if (ctx.retryHeld) {
      ctx.retryHeld = false;
      endRetry(this.#retries, this.#lane, ctx.cluster);
    }
  }

  /**
   * The node's whole answer is about to reach the client: a keyed write's answer is stored now,
   * so a duplicate the client sends on seeing it (to any thread, or instance) finds it done.
   */
  answered(ctx: RequestContext): void {
    if (ctx.heldKey !== null) this.#completeKey(ctx, ctx.heldKey);
  }

  /** A duplicate answered with its Idempotency-Key's stored response. */
  replayed(ctx: RequestContext): void {
    this.#recorder.recordReplay();
    this.finish(ctx);
  }

  /** The try's probe token, if it holds one, goes back: its ending says nothing of the node. */
  letProbeGo(ctx: RequestContext): void {
    if (!ctx.probe) return;
    ctx.probe = false;
    returnProbeToken(this.#breakers, ctx.node, ctx.breakerPeriod, ctx.probeRefill);
  }

  /**
   * A probe's answer head came: an answer (not a 5xx) is the probe's verdict now, so that a
   * half-open node serving a stream (SSE, a long download) closes without waiting for its end. A
   * 5xx, or a failure before the head, is judged when the try ends, as for any request.
   */
  probeAnswered(ctx: RequestContext): void {
    if (nodeOutcome(ctx.headStatus, undefined) !== NodeOutcome.Answered) return;
    ctx.probe = false;
    recordProbeEnding(this.#breakers, ctx.node, ctx.breakerPeriod, false);
  }

  /** A try that failed, about to be retried on another node: what it says of its node, now. */
  recordFailedTry(ctx: RequestContext): void {
    this.nodeDone(ctx);
    this.#recordNode(ctx);
  }

  finish(ctx: RequestContext): void {
    if (ctx.finished) return;
    ctx.finished = true;
    // Before a cut is labelled below: a keyed write whose answer the gateway read whole after the
    // deadline cut its slow client ends without an error, and its key keeps the answer.
    if (ctx.heldKey !== null) this.#completeKey(ctx, ctx.heldKey);
    // Also a keyed write (or a multiplexed call) read on after its client was cut: the pools' destroy failed it, not its node.
    if (this.#cutting && ctx.status === CLIENT_CLOSED_STATUS) ctx.errorCode = 'ERR_SHUTTING_DOWN';
    this.nodeDone(ctx);
    const now = performance.now();
    const elapsedMs = now - ctx.startedAt;
    this.#recorder.record(ctx.routeIndex, ctx.status, elapsedMs / 1000);
    if (ctx.errorCode !== undefined) this.#recorder.recordError(ctx.errorCode);
    if (ctx.forwardedHeadBytes >= 0) this.#recorder.recordHeadBytes(ctx.routeIndex, ctx.headBytes, ctx.forwardedHeadBytes);
    if (ctx.tenantSlot >= 0) {
      if (ctx.node >= 0) recordRequest(this.#tenants, ctx.tenantSlot, ctx.tenantKeyLo, ctx.tenantKeyHi, Math.round(elapsedMs * 1000), ctx.status >= 500);
      else recordOwnAnswer(this.#tenants, ctx.tenantSlot, ctx.tenantKeyLo, ctx.tenantKeyHi);
    }
    if (ctx.node >= 0) this.#recordNode(ctx);
    // A leader that ended before its call did leaves no follower waiting.
    if (ctx.batch !== null) ctx.batch.settle(ctx);
    if (this.#observer !== null) this.#observer.ended(ctx, elapsedMs);
    if (this.#requests.end(ctx.generation)) {
      this.#onIdle?.();
      this.idleListener?.(now);
    }
  }

  /**
   * The request held an Idempotency-Key: the node's answer is kept for replay (even when the
   * client left before it came or took it whole, or a drain's deadline cut the client once the
   * gateway had it whole: the write happened), unless there was none, or it was a 5xx or another
   * answer a key does not keep (stored-response.ts NOT_KEPT).
   */
  #completeKey(ctx: RequestContext, held: HeldKey): void {
    const response = ctx.errorCode === undefined ? ctx.capture!.encode() : null;
    this.#idempotency.complete(held, response);
    ctx.heldKey = null;
    ctx.capture = null;
  }

  /** Passive health, breaker counts and cache locality, and the zone crossing when the node is in another zone. */
  #recordNode(ctx: RequestContext): void {
    if (ctx.waitedOut) return this.letProbeGo(ctx);
    // The node answered before its client left (or every client of its multiplexed call did): its answer judges it.
    const outcome = nodeOutcome(ctx.headStatus !== 0 ? ctx.headStatus : ctx.status, ctx.errorCode);
    recordNodeOutcome(this.#nodes, ctx.node, outcome, ctx.refused ? PASSIVE_DEFAULTS.connectFailuresDown : 1);
    if (ctx.cacheHit >= 0) recordCacheLookup(this.#nodes, ctx.node, ctx.cacheHit === 1);
    const plan = ctx.plan!;
    if (plan.breakers && ctx.triedAt !== 0 && outcome !== NodeOutcome.Unknown) {
      // Time to the answer's head, or to the failure, from when the node had the request: what a node's slowness is.
      const latencyMs = (ctx.headAt === 0 ? performance.now() : ctx.headAt) - ctx.triedAt;
      // Sent before the breaker last half-opened (its window was cleared when it closed): it says nothing of the node now.
      if (probePeriod(this.#breakers, ctx.node) === ctx.breakerPeriod) recordBreakerEnding(this.#breakers, ctx.node, latencyBucket(latencyMs), outcome !== NodeOutcome.Answered);
      if (ctx.probe) recordProbeEnding(this.#breakers, ctx.node, ctx.breakerPeriod, outcome !== NodeOutcome.Answered);
    } else this.letProbeGo(ctx);
    // A try that never went out on a connection (its client left, or its timer ran out, while it waited), or found nothing listening, crossed nothing.
    if (plan.crossZone === null || !ctx.reachedNode || ctx.refused) return;
    const zone = plan.crossZone[ctx.member]!;
    if (zone < 0) return;
    // What went to the node (a streamed upload's bytes past the limit, or after an early answer, did not) and came back.
    const bodySent = ctx.streamedBody !== null ? ctx.streamedBody.forwardedBytes : (ctx.body?.length ?? 0);
    this.#crossings.record(zone, bodySent + ctx.client.bytesWritten);
  }
}

/** What a request's ending says about the node it was given to (passive health). */
export function nodeOutcome(status: number, errorCode: AnsweredCode | undefined): NodeOutcome {
  // A failed handshake counts as a failed connection: the node cannot be reached as configured.
  if (errorCode === 'ERR_UPSTREAM_CONNECT' || errorCode === 'ERR_UPSTREAM_TLS') return NodeOutcome.ConnectFailed;
  if (errorCode === 'ERR_UPSTREAM_TIMEOUT' || errorCode === 'ERR_UPSTREAM_PROTOCOL') return NodeOutcome.Failed;
  // The client left, or sent too much: nothing learnt about the node.
  if (status === CLIENT_CLOSED_STATUS || errorCode !== undefined) return NodeOutcome.Unknown;
  return status >= 500 ? NodeOutcome.Failed : NodeOutcome.Answered;
}
