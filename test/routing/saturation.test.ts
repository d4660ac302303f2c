import { describe, expect, it } from 'vitest';
import { BoundedLoad } from '../../src/routing/bounded-load.js';
import { SaturationLimit } from '../../src/routing/saturation.js';
import { CandidateWalk, Verdict } from '../../src/routing/selection.js';

describe('saturation limit', () => {
  it('rejects a node holding maxInFlight requests, and hands the rest to the next rule', () => {
    const bounded = new BoundedLoad();
    bounded.bound = 3;
    const limit = new SaturationLimit(4, bounded);
    expect([0, 2, 3, 4, 9].map((load) => limit.verdict(0, load))).toEqual([Verdict.Accept, Verdict.Accept, Verdict.Overloaded, Verdict.Reject, Verdict.Reject]);
    expect(new SaturationLimit(4, null).verdict(0, 3)).toBe(Verdict.Accept);
  });

  it('sends the key past its full owner to the next node, and says when every node was full', () => {
    const owners = [0, 1, 2];
    const loads = [4, 1, 4];
    const limit = new SaturationLimit(4, null);
    const walk = new CandidateWalk(3);
    limit.begin();
    expect(walk.choose(owners, 0, 3, 0, 1, { load: (n) => loads[n]! }, limit)).toBe(1);
    expect(limit.sawSaturated).toBe(true);
    loads[1] = 4;
    limit.begin();
    expect(walk.choose(owners, 0, 3, 0, 1, { load: (n) => loads[n]! }, limit)).toBe(-1);
    expect(limit.sawSaturated).toBe(true);
    loads.fill(0);
    limit.begin();
    expect(walk.choose(owners, 0, 3, 0, 1, { load: (n) => loads[n]! }, limit)).toBe(0);
    expect(limit.sawSaturated).toBe(false);
  });
});
