/** Rebalance events kept for the dashboard, of each kind: enough for a screen, bounded whatever the churn. */
export const RECENT_EVENTS = 20;

/** A tenant's shard factor moved (tenant-tracker.ts). */
export interface ShardEvent {
  readonly kind: 'shard';
  /** Wall time of the scoring window's tick, epoch ms. */
  readonly at: number;
  readonly tenant: string;
  readonly from: number;
  readonly to: number;
}

/**
 * A cluster's ring was republished (node-monitor.ts): how many nodes' points moved, and the
 * RING_EVENT_MOVES that moved most (a ring of 10,000 nodes made new moves every one of them, and
 * the dashboard reads the recent events every second).
 */
export interface RingEvent {
  readonly kind: 'ring';
  readonly at: number;
  readonly cluster: string;
  readonly moved: number;
  readonly moves: readonly { readonly node: string; readonly from: number; readonly to: number }[];
}

export const RING_EVENT_MOVES = 20;

export type RebalanceEvent = ShardEvent | RingEvent;

/**
 * A counter that also keeps its last RECENT_EVENTS events (oldest first): the metrics read the
 * count, GET /v1/dashboard the events. Overwritten in place, so a burst costs no memory.
 */
export class RecentEvents<T> {
  readonly #events: T[] = [];
  #count = 0;

  record(event: T): void {
    this.#events[this.#count % RECENT_EVENTS] = event;
    this.#count++;
  }

  /** Events recorded so far, including those no longer kept. */
  get count(): number {
    return this.#count;
  }

  /** The events kept, oldest first. */
  recent(): T[] {
    const kept = Math.min(this.#count, RECENT_EVENTS);
    return Array.from({ length: kept }, (_, i) => this.#events[(this.#count - kept + i) % RECENT_EVENTS]!);
  }
}
