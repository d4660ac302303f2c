import { describe, expect, it } from 'vitest';
import { leastFirst } from '../../src/coordinator/least-first.js';

/** What leastFirst stands for: every index sorted by (major, minor, index), the first `count` kept. */
function byFullSort(major: Float64Array, minor: Float64Array, count: number): number[] {
  return Array.from(major, (_, i) => i)
    .sort((i, j) => major[i]! - major[j]! || minor[i]! - minor[j]! || i - j)
    .slice(0, count);
}

/** A deterministic generator (mulberry32). */
function generator(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) % below);
  };
}

describe('leastFirst', () => {
  it('takes the least by major, then minor, then index, least first', () => {
    const major = Float64Array.of(5, 4, 5, 6, 5, 4);
    const minor = Float64Array.of(9, 1, 2, 0, 2, 1);
    expect(leastFirst(major, minor, 1)).toEqual([1]);
    expect(leastFirst(major, minor, 3)).toEqual([1, 5, 2]);
    expect(leastFirst(major, minor, 4)).toEqual([1, 5, 2, 4]);
    expect(leastFirst(major, minor, 6)).toEqual([1, 5, 2, 4, 0, 3]);
  });

  it('among full equals at the cut, takes the first by index', () => {
    const major = Float64Array.of(7, 7, 7, 7, 3);
    const minor = Float64Array.of(0, 0, 0, 0, 0);
    expect(leastFirst(major, minor, 3)).toEqual([4, 0, 1]);
  });

  it('picks what a full sort picks, in its order, on keys with many ties', () => {
    const random = generator(7);
    for (let round = 0; round < 300; round++) {
      const length = 1 + random(60);
      // Few distinct values, so cuts fall inside runs of equal majors and of equal minors.
      const spread = 1 + random(6);
      const major = Float64Array.from({ length }, () => 100 + random(spread));
      const minor = Float64Array.from({ length }, () => random(spread));
      const count = 1 + random(length);
      expect(leastFirst(major, minor, count)).toEqual(byFullSort(major, minor, count));
    }
  });
});
