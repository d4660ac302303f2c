import { beforeAll, describe, expect, it } from 'vitest';
import { loadHash32 } from '../../src/hash.js';
import { buildRing, lookup, vnodeCount, type Hash32 } from '../../src/routing/ring.js';
import { heldPoints, membersForPoints, needsRepublish, weightForPoints } from '../../src/routing/ring-churn.js';

let hash32: Hash32;
beforeAll(async () => {
  hash32 = await loadHash32();
});

describe('needsRepublish', () => {
  it('keeps the ring for changes up to the threshold (10%) and rebuilds above it', () => {
    expect(needsRepublish([1000, 150], [1090, 150])).toBe(false);
    expect(needsRepublish([1000, 150], [910, 150])).toBe(false);
    expect(needsRepublish([1000, 150], [1000, 165])).toBe(false);
    expect(needsRepublish([1000, 150], [1110, 150])).toBe(true);
    expect(needsRepublish([1000, 150], [890, 150])).toBe(true);
    expect(needsRepublish([1000, 150], [1000, 166])).toBe(true);
  });

  it('compares with what was published, so drift of 5% a window adds up to a rebuild', () => {
    const published = [1000];
    expect(needsRepublish(published, [1050])).toBe(false);
    expect(needsRepublish(published, [1103])).toBe(true);
  });

  it('rebuilds on a join or a leave, however small the node', () => {
    expect(needsRepublish([150, 150], [150, 150, 1])).toBe(true);
    expect(needsRepublish([150, 150, 1], [150, 150])).toBe(true);
    expect(needsRepublish([150, 150], [150, 0])).toBe(true);
    expect(needsRepublish([150, 0], [150, 30])).toBe(true);
  });

  it('treats a node at 0 points as absent, in arrays and records alike', () => {
    expect(needsRepublish([150, 0], [150])).toBe(false);
    expect(needsRepublish({ 0: 150, 5: 0 }, { 0: 150 })).toBe(false);
    expect(needsRepublish({ 0: 150 }, { 0: 150, 5: 60 })).toBe(true);
    expect(needsRepublish([], [])).toBe(false);
  });

  it('takes another threshold', () => {
    expect(needsRepublish([1000], [1040], 0.05)).toBe(false);
    expect(needsRepublish([1000], [1060], 0.05)).toBe(true);
    expect(needsRepublish([1000], [1001], 0)).toBe(true);
  });
});

describe('heldPoints', () => {
  it('keeps each node within the threshold at its published points, and moves only those past it, joining or leaving', () => {
    // n0 drifted 98 -> 103 (held), n1 150 -> 108 (past), n2 leaves (0), n3 joins (30), n4 150 -> 165 (held, the edge).
    expect(heldPoints([98, 150, 150, 0, 150], [103, 108, 0, 30, 165], [150, 150, 150, 150, 150])).toEqual([98, 108, 0, 30, 150]);
    expect(heldPoints([150, 150], [150, 166], [150, 150])).toEqual([150, 166]);
    // A weight lowered 10 -> 9.4 (1,410 points at most): 1,500 is within the threshold of 1,410, but no longer fits.
    expect(heldPoints([1500, 1500], [1410, 1500], [1410, 1500])).toEqual([1410, 1500]);
  });
});

describe('weightForPoints', () => {
  it('gives weights that buildRing turns into exactly the wanted points, 1..1,500', () => {
    for (let points = 1; points <= 1500; points++) expect(vnodeCount(weightForPoints(points))).toBe(points);
  });

  it('is needed: points / 150 rounds some counts up', () => {
    expect(vnodeCount(21 / 150)).toBe(22);
    expect(vnodeCount(weightForPoints(21))).toBe(21);
  });
});

describe('membersForPoints', () => {
  it('skips nodes off the ring and keeps cluster indices', () => {
    const members = membersForPoints(['a', 'b', 'c', 'd'], [150, 0, 77]);
    expect(members.map((m) => [m.index, m.id, vnodeCount(m.weight)])).toEqual([
      [0, 'a', 150],
      [2, 'c', 77],
    ]);
    expect(buildRing(members, hash32).hashes.length).toBe(227);
  });
});

describe('one node changes weight', () => {
  const ids = Array.from({ length: 10 }, (_, i) => `node-${i}`);
  const base = new Array<number>(10).fill(150);
  const KEYS = 50_000;

  // Node 3 goes 150 → 225 points (its share 10% → 14.3%) and 150 → 75 (10% → 5.3%).
  it.each([225, 75])('moves only its keys, about its share change (150 → %i points)', (points) => {
    const keyHashes = Array.from({ length: KEYS }, (_, i) => hash32(`tenant-${i}`));
    const changed = base.map((p, i) => (i === 3 ? points : p));
    expect(needsRepublish(base, changed)).toBe(true);
    const before = buildRing(membersForPoints(ids, base), hash32);
    const after = buildRing(membersForPoints(ids, changed), hash32);
    let moved = 0;
    for (const keyHash of keyHashes) {
      const was = lookup(before, keyHash);
      const now = lookup(after, keyHash);
      if (was === now) continue;
      moved++;
      // Up: keys only go to node 3. Down: keys only leave it.
      expect(points > 150 ? now : was).toBe(3);
    }
    const shareChange = Math.abs(points / (1350 + points) - 150 / 1500);
    // Measured 0.97-1.03 of the share change over five node-name sets; 50k keys add ~±3% noise.
    expect(moved / KEYS).toBeGreaterThan(shareChange * 0.85);
    expect(moved / KEYS).toBeLessThan(shareChange * 1.15);
  });
});
