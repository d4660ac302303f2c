import { describe, expect, it } from 'vitest';
import { BoundedLoad, loadBound } from '../../src/routing/bounded-load.js';
import { CandidateWalk, clockwiseNodes, Verdict } from '../../src/routing/selection.js';

/** The node chosen for the key at ring position `start`, with per-node loads `inFlight`, under `bound`. */
function pick(owners: number[], start: number, k: number, inFlight: number[], bound: number): number {
  const predicate = new BoundedLoad();
  predicate.bound = bound;
  return new CandidateWalk(inFlight.length).choose(owners, 0, owners.length, start, k, { load: (n) => inFlight[n]! }, predicate);
}

describe('consistent hashing with bounded loads', () => {
  it('bounds a node at balanceFactor × the mean counting the new request, rounded up', () => {
    expect(loadBound(0, 4, 1.25)).toBe(1);
    expect(loadBound(7, 4, 1.25)).toBe(3);
    expect(loadBound(99, 4, 1.25)).toBe(32);
  });

  it('accepts a node whose load + 1 fits the bound, and calls the rest overloaded, never rejected', () => {
    const predicate = new BoundedLoad();
    predicate.bound = 3;
    expect([0, 2, 3, 50].map((load) => predicate.verdict(0, load))).toEqual([Verdict.Accept, Verdict.Accept, Verdict.Overloaded, Verdict.Overloaded]);
  });

  // Clockwise from position 2: nodes 1, 2, 3, 0.
  const owners = [0, 0, 1, 1, 2, 3, 0, 2];

  it('keeps a k = 1 key on its own node while it fits, even if others are idle', () => {
    expect(pick(owners, 2, 1, [1, 1, 1, 0], loadBound(3, 4, 1.25))).toBe(1); // bound 2: 1 + 1 fits
    expect(pick(owners, 2, 1, [0, 2, 0, 0], loadBound(2, 4, 1.25))).toBe(2); // bound 1: it does not
  });

  it('walks on clockwise to the first node that fits when none of the first k does', () => {
    const inFlight = [1, 9, 9, 0];
    const bound = loadBound(19, 4, 1.25); // 7
    expect(pick(owners, 2, 1, inFlight, bound)).toBe(3);
    expect(pick(owners, 2, 2, inFlight, bound)).toBe(3);
    expect(pick(owners, 2, 3, inFlight, bound)).toBe(3); // 3 is among the first 3 and least loaded
  });

  it('still routes when threads raced past the bound on every node: to the least loaded', () => {
    expect(pick(owners, 2, 1, [6, 5, 7, 8], 2)).toBe(1);
  });

  it('always returns a node under the bound, inside the first k whenever one of them fits (5,000 random walks)', () => {
    let x = 7;
    const random = (n: number): number => {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
      return x % n;
    };
    const nodes = 8;
    const loads = new Int32Array(nodes);
    const walk = new CandidateWalk(nodes);
    const predicate = new BoundedLoad();
    const ring = Array.from({ length: 64 }, () => random(nodes));
    for (let n = 0; n < nodes; n++) ring[n] = n; // every node on the ring
    for (let trial = 0; trial < 5000; trial++) {
      for (let n = 0; n < nodes; n++) loads[n] = random(50);
      predicate.bound = loadBound(loads.reduce((a, b) => a + b, 0), nodes, 1.25);
      const k = 1 + random(5);
      const start = random(ring.length);
      const node = walk.choose(ring, 0, ring.length, start, k, { load: (n) => loads[n]! }, predicate);
      expect(loads[node]! + 1).toBeLessThanOrEqual(predicate.bound);
      const firstK = clockwiseNodes(ring, start, ring.length, k);
      if (firstK.some((n) => loads[n]! + 1 <= predicate.bound)) expect(firstK).toContain(node);
    }
  });
});
