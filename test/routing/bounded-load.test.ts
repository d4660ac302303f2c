import { describe, expect, it } from 'vitest';
import { BoundedLoadChooser, clockwiseNodes, loadBound } from '../../src/routing/bounded-load.js';

/** The node chosen for the key at ring position `start`, with per-node loads `inFlight`. */
function pick(owners: number[], start: number, k: number, inFlight: number[], bound: number): number {
  return new BoundedLoadChooser(inFlight.length, Int32Array.from(inFlight), 0, 1).choose(owners, 0, owners.length, start, k, bound);
}

describe('consistent hashing with bounded loads', () => {
  it('bounds a node at balanceFactor × the mean counting the new request, rounded up', () => {
    expect(loadBound(0, 4, 1.25)).toBe(1);
    expect(loadBound(7, 4, 1.25)).toBe(3);
    expect(loadBound(99, 4, 1.25)).toBe(32);
  });

  it('lists distinct nodes clockwise from a point, wrapping, up to a limit', () => {
    const owners = [0, 0, 1, 0, 2, 1, 3, 3];
    expect(clockwiseNodes(owners, 0, owners.length, 10)).toEqual([0, 1, 2, 3]);
    expect(clockwiseNodes(owners, 5, owners.length, 10)).toEqual([1, 3, 0, 2]);
    expect(clockwiseNodes(owners, 5, owners.length, 2)).toEqual([1, 3]);
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

  it('takes the least loaded of the first k that fit, the earlier on ties', () => {
    expect(pick(owners, 2, 3, [0, 3, 1, 1], 10)).toBe(2);
    expect(pick(owners, 2, 2, [0, 1, 1, 0], 10)).toBe(1);
    expect(pick(owners, 2, 4, [0, 3, 1, 1], 10)).toBe(0);
  });

  it('with k above the ring\'s distinct nodes, uses them all', () => {
    expect(pick([1, 0, 1], 0, 5, [4, 2], 10)).toBe(1);
  });

  it('reuses its scratch across thousands of walks and always returns a node under the bound', () => {
    let x = 7;
    const random = (n: number): number => {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
      return x % n;
    };
    const nodes = 8;
    const loads = new Int32Array(nodes);
    const chooser = new BoundedLoadChooser(nodes, loads, 0, 1);
    const ring = Array.from({ length: 64 }, () => random(nodes));
    for (let n = 0; n < nodes; n++) ring[n] = n; // every node on the ring
    for (let trial = 0; trial < 5000; trial++) {
      for (let n = 0; n < nodes; n++) loads[n] = random(50);
      const bound = loadBound(loads.reduce((a, b) => a + b, 0), nodes, 1.25);
      const k = 1 + random(5);
      const start = random(ring.length);
      const node = chooser.choose(ring, 0, ring.length, start, k, bound);
      expect(loads[node]! + 1).toBeLessThanOrEqual(bound);
      // The first k distinct nodes clockwise win whenever one of them fits.
      const firstK = clockwiseNodes(ring, start, ring.length, k);
      if (firstK.some((n) => loads[n]! + 1 <= bound)) expect(firstK).toContain(node);
    }
  });

  it('reads loads in place from a strided table', () => {
    // Two words per node (load, something else) after a 2-word header: node n's load at 2 + 2n.
    const table = Int32Array.from([99, 99, 5, 0, 1, 0, 3, 0]);
    const chooser = new BoundedLoadChooser(3, table, 2, 2);
    expect(chooser.choose([0, 1, 2], 0, 3, 0, 3, 100)).toBe(1);
  });
});
