import { describe, expect, it } from 'vitest';
import { chooseEvictions, type EvictionCandidate } from '../../src/coordinator/tenant-eviction.js';

function tenants(...entries: [slot: number, lastSeen: number, windowRequests: number][]): Map<number, EvictionCandidate> {
  return new Map(entries.map(([slot, lastSeen, windowRequests]) => [slot, { lastSeen, windowRequests }]));
}

describe('chooseEvictions', () => {
  it('evicts tenants idle longer than the TTL, and none at the TTL', () => {
    const tracked = tenants([1, 100, 0], [2, 89, 0], [3, 90, 5]);
    expect(chooseEvictions(tracked, 100, 10, 100)).toEqual({ idle: [2], overLimit: [] });
  });

  it('beyond the limit, evicts the least recently seen, and among equals the least busy', () => {
    const tracked = tenants([1, 50, 9], [2, 40, 1], [3, 50, 2], [4, 60, 0], [5, 50, 7]);
    expect(chooseEvictions(tracked, 60, 1000, 2)).toEqual({ idle: [], overLimit: [2, 3, 5] });
  });

  it("among full equals, evicts the first in the map's order (not the slots')", () => {
    const tracked = tenants([9, 50, 0], [2, 50, 0], [7, 50, 0], [4, 60, 0]);
    expect(chooseEvictions(tracked, 60, 1000, 2)).toEqual({ idle: [], overLimit: [9, 2] });
  });

  it('cuts inside a run of equal last-seen ticks, and inside a run of equally busy tenants there', () => {
    const tracked = tenants([10, 40, 5], [11, 50, 3], [12, 50, 1], [13, 50, 3], [14, 50, 3], [15, 60, 0]);
    expect(chooseEvictions(tracked, 60, 1000, 3)).toEqual({ idle: [], overLimit: [10, 12, 11] });
    expect(chooseEvictions(tracked, 60, 1000, 2)).toEqual({ idle: [], overLimit: [10, 12, 11, 13] });
  });

  it('counts the limit after the idle ones are gone', () => {
    const tracked = tenants([1, 0, 0], [2, 95, 1], [3, 96, 1], [4, 97, 1]);
    // Slot 1 is idle; three remain against a limit of two: the oldest of them goes.
    expect(chooseEvictions(tracked, 100, 10, 2)).toEqual({ idle: [1], overLimit: [2] });
    expect(chooseEvictions(tracked, 100, 10, 3)).toEqual({ idle: [1], overLimit: [] });
  });

  it('leaves the tracked map alone', () => {
    const tracked = tenants([1, 0, 0], [2, 1, 0]);
    chooseEvictions(tracked, 100, 10, 0);
    expect([...tracked.keys()]).toEqual([1, 2]);
  });
});
