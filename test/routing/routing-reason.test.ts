import { describe, expect, it } from 'vitest';
import { CandidateWalk, Verdict, type NodePredicate } from '../../src/routing/selection.js';
import { RoutingReason, ROUTING_REASON_NAMES, walkReason } from '../../src/routing/routing-reason.js';

const verdicts = (table: string): NodePredicate => ({
  verdict: (node) => ({ A: Verdict.Accept, O: Verdict.Overloaded, R: Verdict.Reject })[table[node] as 'A' | 'O' | 'R'],
});

// Clockwise from position 0: nodes 0, 1, 2, 3.
const owners = [0, 1, 2, 3];
const idle = { load: () => 0 };

/** The node a walk with shard factor `k` picks, and the reason it reports. */
function walk(k: number, table: string): [number, string] {
  const candidates = new CandidateWalk(4);
  const node = candidates.choose(owners, 0, owners.length, 0, k, idle, verdicts(table));
  return [node, ROUTING_REASON_NAMES[walkReason(candidates.outcome, k)]!];
}

describe('routing reason of a ring walk', () => {
  it('is the ring owner when the first node takes it with k = 1', () => {
    expect(walk(1, 'AAAA')).toEqual([0, 'ring_owner']);
  });

  it('is shard k when a hot tenant\'s k > 1 spread it over its first k nodes', () => {
    expect(walk(3, 'AAAA')).toEqual([0, 'shard_k']);
    expect(walk(2, 'RAAA')).toEqual([1, 'shard_k']);
  });

  it('is the next node clockwise when the first k were rejected outright', () => {
    expect(walk(1, 'RAAA')).toEqual([1, 'ring_next']);
    expect(walk(2, 'RRRA')).toEqual([3, 'ring_next']);
  });

  it('is a bounded-load spill when the first k were over the load bound', () => {
    expect(walk(1, 'OAAA')).toEqual([1, 'bounded_load_spill']);
    expect(walk(1, 'ORAA')).toEqual([2, 'bounded_load_spill']);
    // Every node over the bound: the least loaded of them, still a spill.
    expect(walk(1, 'OOOO')).toEqual([0, 'bounded_load_spill']);
  });

  it('names every reason', () => {
    expect(ROUTING_REASON_NAMES[RoutingReason.Multiplexed]).toBe('multiplexed');
    expect(ROUTING_REASON_NAMES[RoutingReason.ZoneFallback]).toBe('zone_fallback');
    expect(ROUTING_REASON_NAMES[RoutingReason.LeastConnFallback]).toBe('least_conn_fallback');
    expect(ROUTING_REASON_NAMES[RoutingReason.Retry]).toBe('retry');
  });
});
