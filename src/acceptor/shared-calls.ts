import { Buffer } from 'node:buffer';
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
  leaveWait,
  readOutcome,
  seqWord,
  waiters,
  waitersWord,
  type Found,
  type InflightTable,
  type Lead,
  type Outcome,
} from '../shm/inflight-table.js';
import { errorJson, errorStatus, statusLine } from './answers.js';
import type { RawFields } from '../upstream/raw-fields.js';
import type { Continuation } from './phases/idempotency.js';
import { RoutingReason } from '../routing/routing-reason.js';
import type { RequestContext } from './request-context.js';
import { decodeResponse, ResponseCapture } from './stored-response.js';
import { WaitingClient, type Ending } from './waiting-client.js';

/** Atomics.waitAsync (V8, Node 16+), which this TypeScript lib does not declare yet. */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

/** `wake` once word `index` is notified or no longer `value`, or `timeoutMs` passed; never within this call. */
function sleepOn(words: Int32Array, index: number, value: number, timeoutMs: number, wake: () => void): void {
  const result = waitAsync(words, index, value, timeoutMs);
  if (result.async) void (result.value as Promise<string>).then(wake);
  else queueMicrotask(wake);
}

/** A call of this thread that other threads' requests may wait on: its entry and the copy of its answer. */
export class SharedLead {
  #settled = false;
  #watching = false;

  constructor(
    readonly calls: SharedCalls,
    readonly lead: Lead,
    /** The full request key, written before the answer: a waiter whose key only hashed alike reads no answer. */
    readonly key: string,
  ) {}

  /** The copy of the answer for the waiters, made once the head shows someone waits for it. */
  #capture: ResponseCapture | null = null;

  /** Requests of other threads waiting on it now (0 once settled: the entry may be another call's). */
  get waiters(): number {
    return this.#settled ? 0 : waiters(this.calls.table, this.lead.entry);
  }

  /**
   * Calls `check` each time a request of another thread stops waiting, until the call settles:
   * for a call that goes on only for them (its leader's client left), whose thread has no other
   * word of their clients leaving.
   */
  watchWaiters(check: () => void): void {
    if (this.#watching) return;
    this.#watching = true;
    const words = this.calls.table.words;
    const word = waitersWord(this.calls.table, this.lead.entry);
    // Asleep on the count `check` saw, not on a later one: a waiter leaving between the two wakes it at once.
    const sleep = (seen: number): void => {
      if (!this.#settled) sleepOn(words, word, seen, this.calls.waitMs, wake);
    };
    const wake = (): void => {
      if (this.#settled) return;
      const seen = Atomics.load(words, word);
      check();
      sleep(seen);
    };
    sleep(Atomics.load(words, word));
  }

  /**
   * An answer without a body (HEAD, 204, 304) is not shared across threads: its framing is not in
   * the arena. Nor is one that no request of another thread waits for at its head (the common
   * case): the entry goes now, as joining within a thread ends with the head, and the answer is
   * never copied; a request that joins in between reads FALLBACK and calls on its own. With
   * waiters, the entry stays open to more until the answer ends.
   */
  head(status: number, fields: RawFields, share: boolean, noBody: boolean): void {
    if (!share || noBody || this.waiters === 0) return this.abandon();
    this.#capture = new ResponseCapture(this.calls.table.slotBytes);
    this.#capture.start(status, fields);
  }

  chunk(chunk: Buffer): void {
    const capture = this.#capture;
    if (this.#settled || capture === null) return;
    capture.add(chunk);
    // Past the slot's size: the waiters need not wait for the end to call on their own.
    if (capture.overflowed) this.abandon();
  }

  end(): void {
    if (this.#settled) return;
    this.#settled = true;
    const answer = this.#capture?.encode(true) ?? null;
    finishCall(this.calls.table, this.lead, this.calls.reclaimAt(), answer === null ? null : withKey(this.key, answer));
  }

  fail(code: AnsweredCode): void {
    if (this.#settled) return;
    this.#settled = true;
    failCall(this.calls.table, this.lead, this.calls.reclaimAt(), ANSWERED_CODES.indexOf(code), withKey(this.key, NO_ANSWER));
  }

  /** No answer to share (not shareable, too large, broken, or the leader left): waiters call on their own. */
  abandon(): void {
    if (this.#settled) return;
    this.#settled = true;
    abandonCall(this.calls.table, this.lead, this.calls.reclaimAt());
  }
}

const NO_ANSWER = Buffer.alloc(0);

/** The arena record: u32 key length, the key, then the encoded answer (stored-response.ts; none for a failed call). */
function withKey(key: string, answer: Buffer): Buffer {
  const keyBytes = Buffer.from(key);
  const out = Buffer.allocUnsafe(4 + keyBytes.length + answer.length);
  out.writeUInt32BE(keyBytes.length, 0);
  keyBytes.copy(out, 4);
  answer.copy(out, 4 + keyBytes.length);
  return out;
}

/** The answer of an arena record, if it is for `key`; null for another key that hashed alike. */
function answerFor(key: string, record: Buffer): Buffer | null {
  const length = record.readUInt32BE(0);
  return record.toString('utf8', 4, 4 + length) === key ? record.subarray(4 + length) : null;
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
    if (found.role === 'lead') {
      return new SharedLead(this, { entry: found.entry, keyLo, lane: this.lane, seq: found.seq }, key);
    }
    this.recorder.recordMultiplexed(ctx.routeIndex);
    this.#wait(ctx, key, found.entry, found.seq);
    return 'wait';
  }

  /** Until when a settled entry waits for its readers: the wait's own limit, and a second. */
  reclaimAt(): number {
    return tableSeconds(Date.now()) + Math.ceil(this.waitMs / 1000) + 1;
  }

  #wait(ctx: RequestContext, key: string, entry: number, seq: number): void {
    ctx.routing = RoutingReason.Multiplexed;
    const waiter = new CallWaiter(ctx, this.ending, this.table, entry, seq);
    ctx.client.attach(waiter);
    sleepOn(this.table.words, seqWord(this.table, entry), seq, this.waitMs, () => {
      // Counted out when its client left: the entry may be another call's by now.
      if (waiter.countedOut) return;
      this.#outcome(ctx, key, readOutcome(this.table, entry, seq), waiter);
    });
  }

  #outcome(ctx: RequestContext, key: string, outcome: Outcome, waiter: WaitingClient): void {
    if (waiter.left) return;
    const { state, code } = outcome;
    const answer = state === CallState.Done ? answerFor(key, outcome.answer!) : null;
    if (answer !== null) {
      const stored = decodeResponse(answer);
      ctx.status = stored.status;
      ctx.client.answerStored(statusLine(stored.status), stored.fields, stored.body, ctx.limitHeaders);
      this.recorder.recordCallSaved(ctx.routeIndex);
      return this.ending.finish(ctx);
    }
    // A failure is passed on only to waiters of the same key, as an answer is.
    if (state === CallState.Failed && answerFor(key, outcome.answer!) !== null) {
      const failure = ANSWERED_CODES[code]!;
      ctx.errorCode = failure;
      ctx.status = errorStatus(failure);
      ctx.client.answerJson(statusLine(ctx.status), errorJson(failure), false);
      return this.ending.finish(ctx);
    }
    // Not shareable, too large, broken, another key's answer or failure, or no outcome by the deadline (a stuck or dead leader).
    this.recorder.recordFallback(state === CallState.Done || state === CallState.Fallback || state === CallState.Failed ? 'not_shared' : 'leader_gone', 1);
    this.continuation.resume(ctx);
  }
}

/** A request waiting on another thread's call: a client that leaves stops being counted at once, so the call can stop once no one waits. */
class CallWaiter extends WaitingClient {
  countedOut = false;

  constructor(
    ctx: RequestContext,
    ending: Ending,
    readonly table: InflightTable,
    readonly entry: number,
    readonly seq: number,
  ) {
    super(ctx, ending);
  }

  override clientAborted(): void {
    this.countedOut = leaveWait(this.table, this.entry, this.seq);
    super.clientAborted();
  }
}
