import { describe, expect, it } from 'vitest';
import { CandidateWalk, clockwiseNodes, leastLoaded, Verdict, type NodeLoads, type NodePredicate } from '../../src/routing/selection.js';

const ACCEPT_ALL: NodePredicate = { verdict: () => Verdict.Accept };

const loadsOf = (inFlight: readonly number[]): NodeLoads => ({ load: (node) => inFlight[node]! });

/** A predicate answering per node from a table: A accept, O overloaded, R reject. */
const verdicts = (table: string): NodePredicate => ({
  verdict: (node) => ({ A: Verdict.Accept, O: Verdict.Overloaded, R: Verdict.Reject })[table[node] as 'A' | 'O' | 'R'],
});

// Clockwise from position 2: nodes 1, 2, 3, 0.
const owners = [0, 0, 1, 1, 2, 3, 0, 2];

function pick(k: number, inFlight: number[], accept: NodePredicate, start = 2): number {
  return new CandidateWalk(inFlight.length).choose(owners, 0, owners.length, start, k, loadsOf(inFlight), accept);
}

describe('selection walk', () => {
  it('lists distinct nodes clockwise from a point, wrapping, up to a limit', () => {
    const ring = [0, 0, 1, 0, 2, 1, 3, 3];
    expect(clockwiseNodes(ring, 0, ring.length, 10)).toEqual([0, 1, 2, 3]);
    expect(clockwiseNodes(ring, 5, ring.length, 10)).toEqual([1, 3, 0, 2]);
    expect(clockwiseNodes(ring, 5, ring.length, 2)).toEqual([1, 3]);
  });

  it('with every node accepted and k = 1, is the ring owner, whatever the loads', () => {
    expect(pick(1, [0, 9, 0, 0], ACCEPT_ALL)).toBe(1);
    expect(pick(1, [0, 0, 0, 0], ACCEPT_ALL, 4)).toBe(2);
  });

  it('takes the least loaded accepted node of the first k, the earlier on ties', () => {
    expect(pick(3, [0, 3, 1, 1], ACCEPT_ALL)).toBe(2);
    expect(pick(2, [0, 1, 1, 0], ACCEPT_ALL)).toBe(1);
    expect(pick(4, [0, 3, 1, 1], ACCEPT_ALL)).toBe(0);
    expect(pick(3, [0, 0, 5, 0], verdicts('ARAA'))).toBe(3); // 1 is rejected, 3 beats 2 on load
  });

  it('walks on to the first accepted node when none of the first k is accepted', () => {
    expect(pick(1, [0, 0, 0, 0], verdicts('ARRA'))).toBe(3);
    expect(pick(2, [0, 0, 0, 9], verdicts('ARRA'))).toBe(3); // the first later one, not the least loaded
    expect(pick(2, [0, 0, 0, 0], verdicts('AORR'))).toBe(0);
  });

  it('falls back to the least loaded overloaded node only when nothing is accepted', () => {
    expect(pick(1, [5, 4, 3, 6], verdicts('OOOO'))).toBe(2);
    expect(pick(1, [5, 4, 3, 6], verdicts('OORO'))).toBe(1);
    expect(pick(1, [0, 4, 3, 6], verdicts('AOOO'))).toBe(0); // an accepted node beats any overloaded one
  });

  it('answers -1 when every node is rejected', () => {
    expect(pick(1, [0, 0, 0, 0], verdicts('RRRR'))).toBe(-1);
    expect(pick(3, [0, 0, 0, 0], verdicts('RRRR'))).toBe(-1);
  });

  it('with k above the ring\'s distinct nodes, uses them all', () => {
    expect(new CandidateWalk(2).choose([1, 0, 1], 0, 3, 0, 5, loadsOf([4, 2]), ACCEPT_ALL)).toBe(1);
  });

  it('asks the predicate about each distinct node at most once per walk, stopping at the node count', () => {
    const asked: number[] = [];
    const counting: NodePredicate = {
      verdict: (node) => {
        asked.push(node);
        return Verdict.Reject;
      },
    };
    const ring = Array.from({ length: 400 }, (_, i) => i % 4);
    expect(new CandidateWalk(4).choose(ring, 0, ring.length, 7, 2, loadsOf([0, 0, 0, 0]), counting)).toBe(-1);
    expect(asked).toEqual([3, 0, 1, 2]);
  });
});

describe('least connections (the stale control plane\'s fallback)', () => {
  it('takes the least loaded accepted node, ties to the first from the start, whatever the ring', () => {
    expect(leastLoaded(4, 0, loadsOf([3, 1, 2, 1]), ACCEPT_ALL)).toBe(1);
    expect(leastLoaded(4, 2, loadsOf([3, 1, 2, 1]), ACCEPT_ALL)).toBe(3);
    expect(leastLoaded(4, 0, loadsOf([3, 1, 2, 0]), verdicts('AAAR'))).toBe(1);
  });

  it('falls back to the least loaded overloaded node, and answers -1 when every node is rejected', () => {
    expect(leastLoaded(3, 0, loadsOf([5, 4, 6]), verdicts('OOO'))).toBe(1);
    expect(leastLoaded(3, 0, loadsOf([5, 4, 6]), verdicts('OOA'))).toBe(2);
    expect(leastLoaded(3, 1, loadsOf([0, 0, 0]), verdicts('RRR'))).toBe(-1);
  });
});
