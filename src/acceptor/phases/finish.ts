import type { RequestRecorder } from '../../metrics/request-recorder.js';
import { PASSIVE_DEFAULTS } from '../../resilience/node-health.js';
import type { ZoneCrossings } from '../../metrics/zone-crossings.js';
import type { AnsweredCode } from '../../errors.js';
import { finishNodeRequest, NodeOutcome, recordCacheLookup, recordNodeOutcome, type NodeTable } from '../../shm/node-table.js';
import { recordRequest, type TenantTable } from '../../shm/tenant-table.js';
import { CLIENT_CLOSED_STATUS, type RequestContext } from '../request-context.js';
import type { ExchangeOwner } from '../upstream-exchange.js';

/**
 * The one place a request's ending is recorded, whatever it was (answered by the gateway, proxied,
 * aborted by the client, failed upstream): route metrics, error code, tenant counters, the
 * node's in-flight count, its passive health counters and zone crossings, each exactly once. It also keeps the thread's count of open requests,
 * which a drain waits for.
 */
export class Finisher implements ExchangeOwner {
  readonly #recorder: RequestRecorder;
  readonly #tenants: TenantTable;
  readonly #nodes: NodeTable;
  readonly #lane: number;
  readonly #crossings: ZoneCrossings;
  #open = 0;
  #onIdle: (() => void) | null = null;

  constructor(recorder: RequestRecorder, crossings: ZoneCrossings, tenants: TenantTable, nodes: NodeTable, lane: number) {
    this.#recorder = recorder;
    this.#crossings = crossings;
    this.#tenants = tenants;
    this.#nodes = nodes;
    this.#lane = lane;
  }

  /** Requests begun and not finished yet. */
  get open(): number {
    return this.#open;
  }

  get draining(): boolean {
    return this.#onIdle !== null;
  }

  begin(): void {
    this.#open++;
  }

  /** From now on the gateway's answers close their connection; `onIdle` once no request is open. */
  startDrain(onIdle: () => void): void {
    this.#onIdle = onIdle;
    if (this.#open === 0) onIdle();
  }

  /** The node is done with the request (it may still be streaming to the client). */
  nodeDone(ctx: RequestContext): void {
    if (!ctx.nodeHeld) return;
    ctx.nodeHeld = false;
    finishNodeRequest(this.#nodes, this.#lane, ctx.node, ctx.cluster);
  }

  finish(ctx: RequestContext): void {
    if (ctx.finished) return;
    ctx.finished = true;
    this.nodeDone(ctx);
    const elapsedMs = performance.now() - ctx.startedAt;
    this.#recorder.record(ctx.routeIndex, ctx.status, elapsedMs / 1000);
    if (ctx.errorCode !== undefined) this.#recorder.recordError(ctx.errorCode);
    if (ctx.tenantSlot >= 0) recordRequest(this.#tenants, ctx.tenantSlot, Math.round(elapsedMs * 1000), ctx.status >= 500);
    if (ctx.node >= 0) this.#recordNode(ctx);
    if (--this.#open === 0) this.#onIdle?.();
  }

  /** Passive health and cache locality, and the zone crossing when the node is in another zone. */
  #recordNode(ctx: RequestContext): void {
    recordNodeOutcome(this.#nodes, ctx.node, nodeOutcome(ctx.status, ctx.errorCode), ctx.refused ? PASSIVE_DEFAULTS.connectFailuresDown : 1);
    if (ctx.cacheHit >= 0) recordCacheLookup(this.#nodes, ctx.node, ctx.cacheHit === 1);
    const plan = ctx.plan!;
    if (plan.crossZone === null) return;
    const zone = plan.crossZone[ctx.member]!;
    if (zone >= 0) this.#crossings.record(zone, Math.max(0, ctx.contentLength) + ctx.client.bytesWritten);
  }
}

/** What a request's ending says about the node it was given to (passive health). */
export function nodeOutcome(status: number, errorCode: AnsweredCode | undefined): NodeOutcome {
  if (errorCode === 'ERR_UPSTREAM_CONNECT') return NodeOutcome.ConnectFailed;
  if (errorCode === 'ERR_UPSTREAM_TIMEOUT' || errorCode === 'ERR_UPSTREAM_PROTOCOL') return NodeOutcome.Failed;
  // The client left, or sent too much: nothing learnt about the node.
  if (status === CLIENT_CLOSED_STATUS || errorCode !== undefined) return NodeOutcome.Unknown;
  return status >= 500 ? NodeOutcome.Failed : NodeOutcome.Answered;
}
