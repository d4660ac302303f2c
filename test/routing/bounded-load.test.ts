import { describe, expect, it } from 'vitest';
import { clockwiseNodes, loadBound, pickNode } from '../../src/routing/bounded-load.js';

describe('consistent hashing with bounded loads', () => {
  it('bounds a node at balanceFactor × the mean counting the new request, rounded up', () => {
    expect(loadBound(0, 4, 1.25)).toBe(1);
    expect(loadBound(7, 4, 1.25)).toBe(3);
    expect(loadBound(99, 4, 1.25)).toBe(32);
  });

  it('walks distinct nodes clockwise from a point, wrapping, up to a limit', () => {
    const owners = [0, 0, 1, 0, 2, 1, 3, 3];
    expect(clockwiseNodes(owners, 0, owners.length, 10)).toEqual([0, 1, 2, 3]);
    expect(clockwiseNodes(owners, 5, owners.length, 10)).toEqual([1, 3, 0, 2]);
    expect(clockwiseNodes(owners, 5, owners.length, 2)).toEqual([1, 3]);
  });

  it('keeps a k = 1 tenant on its own node while it fits, even if others are idle', () => {
    const inFlight = [1, 1, 1, 0];
    expect(pickNode([1, 2, 3, 0], 1, inFlight, loadBound(3, 4, 1.25))).toBe(1); // bound 2: 1 + 1 fits
    expect(pickNode([1, 2, 3, 0], 1, [0, 2, 0, 0], loadBound(2, 4, 1.25))).toBe(2); // bound 1: it does not
  });

  it('walks on clockwise to the first node that fits when its own does not', () => {
    const inFlight = [9, 0, 9, 1];
    const bound = loadBound(19, 4, 1.25); // 7
    expect(pickNode([0, 2, 3, 1], 1, inFlight, bound)).toBe(3);
    expect(pickNode([0, 2, 1, 3], 2, inFlight, bound)).toBe(1);
  });

  it('takes the least loaded of the first k that fit, the earlier on ties', () => {
    const inFlight = [3, 1, 1, 0];
    expect(pickNode([0, 1, 2, 3], 3, inFlight, 10)).toBe(1);
    expect(pickNode([0, 2, 1, 3], 3, inFlight, 10)).toBe(2);
    expect(pickNode([0, 1, 2, 3], 4, inFlight, 10)).toBe(3);
  });

  it('always returns a node under the bound, whatever the loads', () => {
    let x = 7;
    const random = (n: number): number => {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
      return x % n;
    };
    for (let trial = 0; trial < 2000; trial++) {
      const nodes = 2 + random(8);
      const inFlight = Array.from({ length: nodes }, () => random(50));
      const order = Array.from({ length: nodes }, (_, i) => i).sort(() => random(3) - 1);
      const bound = loadBound(inFlight.reduce((a, b) => a + b, 0), nodes, 1.25);
      const node = pickNode(order, 1 + random(5), inFlight, bound);
      expect(inFlight[node]! + 1).toBeLessThanOrEqual(bound);
    }
    expect(pickNode([], 3, [], 1)).toBe(-1);
  });
});
