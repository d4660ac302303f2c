import { describe, expect, it } from 'vitest';
import { INITIAL_SHARD_STATE, stepShardState, targetShardFactor, targetShardFactorAt, type ShardState } from '../../src/routing/shard-factor.js';

/** k after each window; a window's own target is the smoothed one unless `windowTargets` says otherwise. */
function run(targets: readonly number[], from: ShardState = INITIAL_SHARD_STATE, windowTargets: readonly number[] = targets): number[] {
  const ks: number[] = [];
  let state = from;
  for (const [i, target] of targets.entries()) {
    state = stepShardState(state, target, windowTargets[i]!);
    ks.push(state.k);
  }
  return ks;
}

describe('shard factor', () => {
  it('asks for 1 below the hot score, else 1 + score/200 rounded up, clamped to 2…5', () => {
    expect(targetShardFactor(99.9, 100)).toBe(1);
    expect(targetShardFactor(100, 100)).toBe(2);
    expect(targetShardFactor(200, 100)).toBe(2);
    expect(targetShardFactor(201, 100)).toBe(3);
    expect(targetShardFactor(600, 100)).toBe(4);
    expect(targetShardFactor(800, 100)).toBe(5);
    expect(targetShardFactor(1e9, 100)).toBe(5);
    expect(targetShardFactor(Number.NaN, 100)).toBe(1);
    expect(targetShardFactor(50, 10)).toBe(2);
  });

  it('asks a spread tenant for fewer nodes only if its score on one node fewer would', () => {
    // On 3 nodes, 190 alone asks for 2; on 2 it would be 285, which asks for 3: stay.
    expect(targetShardFactorAt(190, 3, 100)).toBe(3);
    expect(targetShardFactorAt(133, 3, 100)).toBe(2); // 199.5 on 2 asks for 2
    expect(targetShardFactorAt(60, 2, 100)).toBe(2); // 120 on 1 is hot: stay on 2
    expect(targetShardFactorAt(40, 2, 100)).toBe(1);
    expect(targetShardFactorAt(20, 5, 100)).toBe(1); // 25 on 4 asks for 1 too (k steps down one at a time)
    // Growth and a k of 1 go by the score alone.
    expect(targetShardFactorAt(700, 2, 100)).toBe(5);
    expect(targetShardFactorAt(50, 1, 100)).toBe(1);
  });

  it('grows to the target only after exactly 3 windows in a row above k', () => {
    expect(run([3, 3, 3])).toEqual([1, 1, 3]);
    expect(run([3, 3, 1, 3, 3, 4])).toEqual([1, 1, 1, 1, 1, 4]); // an equal window restarts the streak
  });

  it('shrinks one step per 5 windows in a row below k', () => {
    const from = { k: 3, above: 0, below: 0 };
    expect(run(Array(11).fill(1), from)).toEqual([3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1]);
    expect(run([1, 1, 1, 1, 5, 1, 1, 1, 1, 1], from)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 2]); // an above window restarts it
  });

  it('does not move at all for a score hovering around the hot threshold', () => {
    const targets = Array.from({ length: 200 }, (_, i) => targetShardFactor(i % 2 === 0 ? 99 : 101, 100));
    expect(new Set(run(targets))).toEqual(new Set([1]));
  });

  it('counts towards growth only windows hot themselves: one slow window, then cool or idle ones, never shards', () => {
    // The smoothed score asks for 3 for several windows after one very slow one; the windows after it ask for 1.
    expect(run([3, 3, 3, 3, 3], INITIAL_SHARD_STATE, [3, 1, 1, 1, 1])).toEqual([1, 1, 1, 1, 1]);
    // A cool window breaks the streak like an equal one.
    expect(run([3, 3, 3, 3, 3, 3], INITIAL_SHARD_STATE, [3, 3, 1, 3, 3, 3])).toEqual([1, 1, 1, 1, 1, 3]);
    // Growth goes to the smoothed target, whatever each window asked for.
    expect(run([4, 4, 4], INITIAL_SHARD_STATE, [2, 5, 2])).toEqual([1, 1, 4]);
  });
});
