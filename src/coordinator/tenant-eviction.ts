import { leastFirst } from './least-first.js';

/** What eviction needs to know of a tracked tenant. */
export interface EvictionCandidate {
  /** The coarse clock's tick (tenths of a second) the tenant was last seen at. */
  readonly lastSeen: number;
  /** Requests in the window just harvested. */
  readonly windowRequests: number;
}

export interface Evictions {
  /** Slots whose tenant was idle longer than the TTL. */
  readonly idle: number[];
  /** Slots beyond the tenant limit, least recently seen first. */
  readonly overLimit: number[];
}

/**
 * Which tenants a window's end evicts: those idle longer than `ttlTicks`, then the least recently
 * seen beyond `maxTenants`. LAST_SEEN ticks are coarse, so among equals the less busy go first,
 * and among full equals the first in the map's order.
 * Pure: the tracker frees the slots.
 */
export function chooseEvictions(tracked: ReadonlyMap<number, EvictionCandidate>, now: number, ttlTicks: number, maxTenants: number): Evictions {
  const idle: number[] = [];
  // The kept tenants' slots and keys in the map's order, in arrays sized once.
  const slots = new Int32Array(tracked.size);
  const lastSeen = new Float64Array(tracked.size);
  const windowRequests = new Float64Array(tracked.size);
  let kept = 0;
  // forEach: a for-of over a map makes an entry array per tenant.
  tracked.forEach((candidate, slot) => {
    if (now - candidate.lastSeen > ttlTicks) {
      idle.push(slot);
    } else {
      slots[kept] = slot;
      lastSeen[kept] = candidate.lastSeen;
      windowRequests[kept++] = candidate.windowRequests;
    }
  });
  const excess = kept - maxTenants;
  if (excess <= 0) return { idle, overLimit: [] };
  const order = leastFirst(lastSeen.subarray(0, kept), windowRequests.subarray(0, kept), excess);
  return { idle, overLimit: order.map((i) => slots[i]!) };
}
