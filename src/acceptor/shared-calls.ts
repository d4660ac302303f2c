import { ANSWERED_CODES, type AnsweredCode } from '../errors.js';
import type { TenantKeyer } from '../hash.js';
import type { RequestRecorder } from '../metrics/request-recorder.js';
import { tableSeconds } from '../shm/bucket-table.js';
import {
  abandonCall,
  CallState,
  failCall,
  finishCall,
  leadOrWait,
  readOutcome,
  seqWord,
  waiters,
  type Found,
  type InflightTable,
} from '../shm/inflight-table.js';
import { errorJson, errorStatus, statusLine } from './answers.js';
import type { Continuation } from './phases/idempotency.js';
import type { RequestContext } from './request-context.js';
import { decodeResponse, ResponseCapture } from './stored-response.js';
import { WaitingClient, type Ending } from './waiting-client.js';

/** Atomics.waitAsync (V8, Node 16+), which this TypeScript lib does not declare yet. */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/** A call of this thread that other threads' requests may wait on: its entry and the copy of its answer. */
export class SharedLead {
  #settled = false;

  constructor(
    readonly calls: SharedCalls,
    readonly entry: number,
    readonly keyLo: number,
    readonly capture: ResponseCapture,
  ) {}

  /** Requests of other threads waiting on it now. */
  get waiters(): number {
    return waiters(this.calls.table, this.entry);
  }

  head(status: number, headers: readonly Buffer[], share: boolean): void {
    if (!share) return this.abandon();
    this.capture.start(status, headers);
  }

  chunk(chunk: Buffer): void {
    if (this.#settled) return;
    this.capture.add(chunk);
    // Past the slot's size: the waiters need not wait for the end to call on their own.
    if (this.capture.overflowed) this.abandon();
  }

  end(): void {
    if (this.#settled) return;
    this.#settled = true;
    finishCall(this.calls.table, this.entry, this.keyLo, this.calls.lane, this.capture.encode(true));
  }

  fail(code: AnsweredCode): void {
    if (this.#settled) return;
    this.#settled = true;
    failCall(this.calls.table, this.entry, this.keyLo, this.calls.lane, ANSWERED_CODES.indexOf(code));
  }

  /** No answer to share (not shareable, too large, broken, or the leader left): waiters call on their own. */
  abandon(): void {
    if (this.#settled) return;
    this.#settled = true;
    abandonCall(this.calls.table, this.entry, this.keyLo, this.calls.lane);
  }
}

/**
 * Multiplexing across threads (issue 12): a read that no call of its own thread serves looks in
 * the shared in-flight table. If another thread's call of it is running, the read sleeps on the
 * entry (Atomics.waitAsync) and answers from the arena slot once woken: the answer, the same
 * error, or (too large, not shareable, leader gone) a call of its own. Otherwise it leads, and
 * its call's answer is copied into the slot for the waiters.
 */
export class SharedCalls {
  readonly #found: Found = { role: 'none', entry: -1, seq: 0 };
  continuation!: Continuation;

  constructor(
    readonly table: InflightTable,
    readonly lane: number,
    readonly keyer: TenantKeyer,
    readonly recorder: RequestRecorder,
    readonly ending: Ending,
    /** How long a waiter waits at most: GATEWAY_UPSTREAM_TIMEOUT_MS and a second. */
    readonly waitMs: number,
  ) {}

  /** 'wait': `ctx` now waits on another thread's call; a SharedLead: ctx leads, others may wait; null: neither. */
  waitOrLead(ctx: RequestContext, key: string): 'wait' | SharedLead | null {
    this.keyer.hash(key);
    const keyLo = this.keyer.lo;
    const now = tableSeconds(Date.now());
    const found = this.#found;
    leadOrWait(this.table, keyLo, this.keyer.hi, this.lane, now, now + Math.ceil(this.waitMs / 1000), found);
    if (found.role === 'none') {
      this.recorder.recordFallback('table_full', 1);
      return null;
    }
    if (found.role === 'lead') return new SharedLead(this, found.entry, keyLo, new ResponseCapture(this.table.slotBytes));
    this.recorder.recordMultiplexed(ctx.routeIndex);
    this.#wait(ctx, found.entry, found.seq, keyLo);
    return 'wait';
  }

  #wait(ctx: RequestContext, entry: number, seq: number, keyLo: number): void {
    const waiter = new WaitingClient(ctx, this.ending);
    ctx.client.attach(waiter);
    const words = this.table.words;
    const result = waitAsync(words, seqWord(this.table, entry), seq, this.waitMs);
    if (result.async) void (result.value as Promise<string>).then(() => this.#outcome(ctx, entry, keyLo, waiter));
    else queueMicrotask(() => this.#outcome(ctx, entry, keyLo, waiter));
  }

  #outcome(ctx: RequestContext, entry: number, keyLo: number, waiter: WaitingClient): void {
    const { state, code, answer } = readOutcome(this.table, entry, keyLo);
    if (waiter.left) return;
    if (state === CallState.Done) {
      const stored = decodeResponse(answer!);
      ctx.status = stored.status;
      ctx.client.answerStored(statusLine(stored.status), stored.headers, stored.body);
      this.recorder.recordCallSaved(ctx.routeIndex);
      return this.ending.finish(ctx);
    }
    if (state === CallState.Failed) {
      const failure = ANSWERED_CODES[code]!;
      ctx.errorCode = failure;
      ctx.status = errorStatus(failure);
      ctx.client.answerJson(statusLine(ctx.status), errorJson(failure), false);
      return this.ending.finish(ctx);
    }
    // Not shareable, too large, broken, or still leading at the deadline (a stuck or dead leader).
    this.recorder.recordFallback(state === CallState.Leading ? 'leader_gone' : 'not_shared', 1);
    this.continuation.resume(ctx);
  }
}
