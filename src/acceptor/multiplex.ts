import { Buffer } from 'node:buffer';
import type { AnsweredCode } from '../errors.js';
import { errorJson, errorStatus, statusLine } from './answers.js';
import { CLIENT_CLOSED_STATUS, type RequestContext } from './request-context.js';
import { RoutingReason } from '../routing/routing-reason.js';
import type { ClientListener } from './client-contract.js';
import type { SharedLead } from './shared-calls.js';
import type { LocalBatches } from './local-batches.js';
import { shareable } from './multiplex-key.js';
import { RawFields } from '../upstream/raw-fields.js';
import type { NameSet } from '../name-set.js';
import { LeaderBacklog } from './leader-backlog.js';

/** A body up to this size reaches followers in one write with its head; a larger one streams. */
const WHOLE_BODY_BYTES = 64 * 1024;

/**
 * One call to a node shared by identical reads of one thread (issue 12): the leader's request
 * makes it (with its retries, breaker and timeouts); followers that joined before the answer's
 * head get its status, headers and body. The leader's exchange reports each event here. A small
 * body (most reads) goes to each follower with its head in one write once complete; a larger one
 * streams with chunked framing, and uWS buffers what a slow follower cannot take yet, so one slow
 * follower never holds the others (or the node) back; nor does a slow leader (leader-backlog.ts).
 */
export class Batch {
  readonly followers: RequestContext[] = [];
  #noBody = false;
  #abandon: (() => void) | null = null;
  #line = '';
  #fields = RawFields.EMPTY;
  /** The body so far, while it is small enough to send whole; null once streaming. */
  #pending: Buffer[] | null = [];
  #pendingBytes = 0;
  #closed = false;

  constructor(
    readonly key: string,
    /** The key's hash in the thread's open calls. */
    readonly keyHash: number,
    readonly leader: RequestContext,
    readonly home: LocalBatches,
    /** Other threads' requests may wait on this call too; null: this thread's alone. */
    readonly shared: SharedLead | null,
    /** The route's vary headers: an answer varying on another is not shared. */
    readonly vary: NameSet,
  ) {}

  join(ctx: RequestContext): void {
    this.followers.push(ctx);
    ctx.routing = RoutingReason.Multiplexed;
    ctx.client.attach(new Follower(this, ctx));
    this.home.recorder.recordMultiplexed(ctx.routeIndex);
  }

  /** Joining ends here: later requests are a new call's. */
  close(): void {
    // Closed at the head already, as a rule: its ending's settle need not look it up again.
    if (this.#closed) return;
    this.#closed = true;
    this.home.forget(this);
  }

  /** Requests besides the leader wait for the answer: followers, or other threads' waiters. */
  get othersWait(): boolean {
    return this.followers.length > 0 || (this.shared?.waiters ?? 0) > 0;
  }

  /** The leader's client left: the call goes on while followers wait; `abandon` stops it once none is left. */
  leaderGone(abandon: () => void): boolean {
    if (!this.othersWait) return false;
    this.#abandon = abandon;
    // Other threads' waiters (now, or joining later) leave without a word to this one: it watches their count.
    this.shared?.watchWaiters(() => this.#stopIfNobody());
    return true;
  }

  /**
   * The answer's head. When it must not be shared, the followers go to the node on their own.
   * When it is, the way its body reaches the leader's client (`exchange` its listener), so that a
   * slow one holds none of the others.
   */
  head(status: number, line: string, fields: RawFields, noBody: boolean, exchange: ClientListener): LeaderBacklog | null {
    this.close();
    this.home.recorder.recordBatchSize(this.leader.routeIndex, 1 + this.followers.length);
    // Only an answer someone waits for is judged: reading every header name of every answer cost
    // each read that no one joined (nearly all of them) a string per header.
    const share = this.othersWait && shareable(fields, this.vary);
    this.shared?.head(status, fields, share, noBody);
    if (!share) {
      // No body to hold for anyone.
      this.#pending = null;
      this.#onTheirOwn('not_shareable');
      this.#stopIfNobody();
      return null;
    }
    this.#noBody = noBody;
    this.#line = line;
    this.#fields = fields;
    // No one of this thread joined (and no one can now): nothing to hold the body for.
    if (this.followers.length === 0) this.#pending = null;
    for (const ctx of this.followers) ctx.status = status;
    // The other threads' waiters may have gone (a body-less answer is not shared across threads).
    this.#stopIfNobody();
    return noBody || !this.othersWait ? null : new LeaderBacklog(this, this.leader.client, exchange, this.home.backlogBytes);
  }

  chunk(chunk: Buffer): void {
    if (this.shared !== null) {
      this.shared.chunk(chunk);
      // Past the arena's slot the other threads' waiters went their own way: maybe they were the last.
      this.#stopIfNobody();
    }
    const pending = this.#pending;
    if (pending === null) {
      for (const ctx of this.followers) ctx.client.write(chunk);
      return;
    }
    pending.push(Buffer.from(chunk));
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes <= WHOLE_BODY_BYTES) return;
    // Too large to hold: stream from here on.
    this.#pending = null;
    for (const ctx of this.followers) {
      ctx.client.startResponse(this.#line, this.#fields, ctx.limitHeaders, -1);
      for (const piece of pending) ctx.client.write(piece);
    }
  }

  /** The answer is complete: so is every follower's. */
  end(reportedLength: number | undefined): void {
    this.shared?.end();
    // Nearly every call: no one joined, and nothing is left to answer (no array for it either).
    if (this.followers.length === 0) return;
    const followers = this.followers.splice(0);
    const whole = this.#pending === null || this.#noBody ? null : Buffer.concat(this.#pending, this.#pendingBytes);
    for (const ctx of followers) {
      if (whole !== null) {
        ctx.client.answerStored(this.#line, this.#fields, whole, ctx.limitHeaders);
      } else {
        if (this.#pending !== null) ctx.client.startResponse(this.#line, this.#fields, ctx.limitHeaders, -1);
        ctx.client.end(this.#noBody, reportedLength);
      }
      this.home.recorder.recordCallSaved(ctx.routeIndex);
      this.home.ending.finish(ctx);
    }
  }

  /** The call failed before any answer: every follower gets the same error. */
  fail(code: AnsweredCode): void {
    // Followers already streaming part of an answer can only be cut off.
    if (this.#pending === null) return this.#truncate();
    this.close();
    // The leader's own head could not be written: that says nothing of the node, nor of theirs.
    if (code === 'ERR_BAD_HEADER') {
      this.shared?.abandon();
      return this.#onTheirOwn('leader_refused');
    }
    this.shared?.fail(code);
    const followers = this.followers.splice(0);
    for (const ctx of followers) {
      ctx.errorCode = code;
      ctx.status = errorStatus(code);
      ctx.client.answerJson(statusLine(ctx.status), errorJson(code), false);
      this.home.ending.finish(ctx);
    }
  }

  /** The call broke mid-answer: every follower's connection closes, so no truncated body looks whole. */
  #truncate(): void {
    this.shared?.abandon();
    const followers = this.followers.splice(0);
    for (const ctx of followers) {
      ctx.status = 502;
      ctx.client.close();
      this.home.ending.finish(ctx);
    }
  }

  /**
   * The leader's request ended without the call answering whoever still waits (the leader left
   * between two tries, or the gateway answered it): the same error, or on to the node on their own.
   */
  settle(leader: RequestContext): void {
    this.close();
    this.shared?.abandon();
    if (this.followers.length === 0) return;
    if (leader.errorCode !== undefined) return this.fail(leader.errorCode);
    this.#onTheirOwn('leader_left');
  }

  /** No answer to share (joining closed): the followers go to the node on their own, counted under `reason`. */
  #onTheirOwn(reason: string): void {
    if (this.followers.length === 0) return;
    const followers = this.followers.splice(0);
    this.home.recorder.recordFallback(reason, followers.length);
    for (const ctx of followers) this.home.continuation.resume(ctx);
  }

  leave(ctx: RequestContext): void {
    const at = this.followers.indexOf(ctx);
    if (at < 0) return;
    this.followers.splice(at, 1);
    ctx.status = CLIENT_CLOSED_STATUS;
    this.home.ending.finish(ctx);
    this.#stopIfNobody();
  }

  /** A call that goes on only for others (its leader left) stops once none of them is left. */
  #stopIfNobody(): void {
    const abandon = this.#abandon;
    if (abandon === null || this.othersWait) return;
    this.#abandon = null;
    abandon();
  }
}

/** A follower's client side: leaving takes it out of the batch, and nothing else. */
class Follower implements ClientListener {
  constructor(
    readonly batch: Batch,
    readonly ctx: RequestContext,
  ) {}

  clientAborted(): void {
    this.batch.leave(this.ctx);
  }

  clientWritable(): void {}

  beforeLastBytes(): void {}
}
