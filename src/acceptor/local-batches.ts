import type { RequestRecorder } from '../metrics/request-recorder.js';
import type { NameSet } from '../name-set.js';
import type { Hash32 } from '../routing/ring.js';
import { Batch } from './multiplex.js';
import { requestKey } from './multiplex-key.js';
import { OpenCalls } from './open-calls.js';
import type { Continuation } from './phases/idempotency.js';
import type { RequestContext } from './request-context.js';
import type { SharedCalls } from './shared-calls.js';
import type { Ending } from './waiting-client.js';

/**
 * The multiplexed calls of one thread awaiting their answer's head, by request key; lives as long
 * as the thread (a reload does not cut a batch short).
 */
export class LocalBatches {
  readonly #open: OpenCalls<Batch>;
  #continuation!: Continuation;

  constructor(
    readonly recorder: RequestRecorder,
    readonly ending: Ending,
    /** The threads' shared in-flight table; null: calls are shared within the thread only. */
    readonly shared: SharedCalls | null,
    /** Hashes request keys for the open calls (seeded: clients choose the keys). */
    hash: Hash32,
    /** How far a call's leader's client may fall behind its node while others share the answer (leader-backlog.ts). */
    readonly backlogBytes: number,
  ) {
    this.#open = new OpenCalls(hash);
  }

  get continuation(): Continuation {
    return this.#continuation;
  }

  /** Where followers a call cannot serve go on: the newest request path (set by each runner). */
  set continuation(next: Continuation) {
    this.#continuation = next;
    if (this.shared !== null) this.shared.continuation = next;
  }

  /**
   * A read of a multiplexing route: it joins the open batch of an identical one (true: it is
   * answered from there), or leads a new one and goes on.
   */
  joinOrLead(ctx: RequestContext, vary: NameSet): boolean {
    const key = requestKey(ctx, vary);
    if (key === null) return false;
    const keyHash = this.#open.hash(key);
    const open = this.#open.get(key, keyHash);
    if (open !== undefined) {
      open.join(ctx);
      return true;
    }
    const shared = this.shared?.waitOrLead(ctx, key) ?? null;
    if (shared === 'wait') return true;
    const batch = new Batch(key, keyHash, ctx, this, shared, vary);
    this.#open.add(key, keyHash, batch);
    ctx.batch = batch;
    return false;
  }

  forget(batch: Batch): void {
    this.#open.remove(batch.key, batch.keyHash, batch);
  }
}
