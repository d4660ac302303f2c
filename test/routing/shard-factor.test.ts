import { describe, expect, it } from 'vitest';
import { FIRST_HOLD_WINDOWS, INITIAL_SHARD_STATE, stepShardState, targetShardFactor, type ShardState } from '../../src/routing/shard-factor.js';

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

  it('grows to the target only after exactly 3 windows in a row above k', () => {
    expect(run([3, 3, 3])).toEqual([1, 1, 3]);
    expect(run([3, 3, 1, 3, 3, 4])).toEqual([1, 1, 1, 1, 1, 4]); // an equal window restarts the streak
  });

  it('shrinks one step per 5 windows in a row below k', () => {
    const from = { ...INITIAL_SHARD_STATE, k: 3 };
    expect(run(Array(11).fill(1), from)).toEqual([3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1]);
    expect(run([1, 1, 1, 1, 5, 1, 1, 1, 1, 1], from)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 2]); // an above window restarts it
  });

  it('holds k after a flap back (a growth soon after a shrink), twice as long at each further flap', () => {
    const flap = (hold: number): number[] => [...Array(hold + 5).fill(2), 3, 3, 3];
    const ks = run([...flap(0), ...flap(FIRST_HOLD_WINDOWS), ...flap(2 * FIRST_HOLD_WINDOWS)], { ...INITIAL_SHARD_STATE, k: 3 });
    // Shrunk after 5 windows, grown back 3 later: held 20 windows, then 40.
    const moves = ks.flatMap((k, i) => (k !== (i === 0 ? 3 : ks[i - 1]) ? [`${i}:${k}`] : []));
    expect(moves).toEqual(['4:2', '7:3', `${7 + FIRST_HOLD_WINDOWS + 5}:2`, `${7 + FIRST_HOLD_WINDOWS + 8}:3`, `${7 + FIRST_HOLD_WINDOWS + 8 + 2 * FIRST_HOLD_WINDOWS + 5}:2`, `${7 + FIRST_HOLD_WINDOWS + 8 + 2 * FIRST_HOLD_WINDOWS + 8}:3`]);
  });

  it('forgets the holds once a shrink stands for 10 windows', () => {
    // A flap (held 20), a shrink that stands, a growth; then a flap again: held 20 again, not 40.
    const flap = [...Array(5).fill(2), 3, 3, 3];
    const targets = [...flap, ...Array(FIRST_HOLD_WINDOWS + 5).fill(2), ...Array(11).fill(2), 3, 3, 3, ...flap, ...Array(FIRST_HOLD_WINDOWS + 5).fill(2)];
    const ks = run(targets, { ...INITIAL_SHARD_STATE, k: 3 });
    expect(ks.slice(-(FIRST_HOLD_WINDOWS + 6))).toEqual([...Array(FIRST_HOLD_WINDOWS + 5).fill(3), 2]);
  });

  it('gives back the state itself for a window that changes nothing, a new one otherwise', () => {
    expect(stepShardState(INITIAL_SHARD_STATE, 1, 1)).toBe(INITIAL_SHARD_STATE);
    const spread = { ...INITIAL_SHARD_STATE, k: 3 };
    expect(stepShardState(spread, 3, 5)).toBe(spread);
    expect(stepShardState(spread, 2, 2)).toEqual({ ...spread, below: 1 });
    const held = { ...spread, hold: 4, lastHold: FIRST_HOLD_WINDOWS };
    expect(stepShardState(held, 3, 3)).toEqual({ ...held, hold: 3 });
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
