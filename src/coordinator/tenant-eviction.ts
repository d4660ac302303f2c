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
 * seen beyond `maxTenants`. LAST_SEEN ticks are coarse, so among equals the less busy go first.
 * Pure: the tracker frees the slots.
 */
export function chooseEvictions(tracked: ReadonlyMap<number, EvictionCandidate>, now: number, ttlTicks: number, maxTenants: number): Evictions {
  const idle: number[] = [];
  const kept: [number, EvictionCandidate][] = [];
  for (const entry of tracked) {
    if (now - entry[1].lastSeen > ttlTicks) idle.push(entry[0]);
    else kept.push(entry);
  }
  const excess = kept.length - maxTenants;
  if (excess <= 0) return { idle, overLimit: [] };
  kept.sort((a, b) => a[1].lastSeen - b[1].lastSeen || a[1].windowRequests - b[1].windowRequests);
  return { idle, overLimit: kept.slice(0, excess).map(([slot]) => slot) };
}
