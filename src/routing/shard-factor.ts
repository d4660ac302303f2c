/**
 * Hot-tenant shard factor k (issue 4): how many ring neighbours share a tenant's traffic. The
 * target follows the score at once; k itself moves with hysteresis, so a score hovering at a
 * threshold does not remap the tenant back and forth (a rebalancing storm): k grows to the target
 * only after GROW_AFTER_WINDOWS windows in a row above it, each of them hot itself, and shrinks one
 * step after SHRINK_AFTER_WINDOWS windows in a row below it.
 */
export const MIN_SHARD_FACTOR = 1;
export const MAX_SHARD_FACTOR = 5;
/** Score per extra node above the hot threshold: k = 1 + score / SCORE_PER_SHARD. */
export const SCORE_PER_SHARD = 200;
export const GROW_AFTER_WINDOWS = 3;
export const SHRINK_AFTER_WINDOWS = 5;

/**
 * The shard factor a score asks for: 1 below `hotScore`, else 1 + score / 200 rounded up (a tenant
 * that is hot gets at least 2 nodes), clamped to [1, 5].
 */
export function targetShardFactor(score: number, hotScore: number): number {
  if (!(score >= hotScore)) return MIN_SHARD_FACTOR;
  return Math.min(MAX_SHARD_FACTOR, Math.max(MIN_SHARD_FACTOR + 1, Math.ceil(1 + score / SCORE_PER_SHARD)));
}

/**
 * Flap damping. A spread tenant's latency can fall because it is spread (its own load queueing on
 * its nodes): then its score on k nodes asks for fewer, and on fewer for k again, for good. A
 * growth within REGROW_WINDOWS of a shrink is such a flap back: k is then held (not shrunk) for
 * FIRST_HOLD_WINDOWS, doubled at each further flap up to MAX_HOLD_WINDOWS, so the moves thin out
 * exponentially (as BGP's route flap damping does), while a tenant spread by a burst that does
 * not come back shrinks as fast as ever. A shrink not undone within REGROW_WINDOWS forgets the holds.
 */
export const REGROW_WINDOWS = 10;
export const FIRST_HOLD_WINDOWS = 20;
export const MAX_HOLD_WINDOWS = 640;

export interface ShardState {
  readonly k: number;
  /** Consecutive windows whose target was above k. */
  readonly above: number;
  /** Consecutive windows whose target was below k (while not held). */
  readonly below: number;
  /** Windows since k last shrank, counted up to REGROW_WINDOWS + 1 (that far: not lately). */
  readonly sinceShrink: number;
  /** Windows left during which k does not shrink. */
  readonly hold: number;
  /** The hold the last flap got (0: none since the last shrink that stayed). */
  readonly lastHold: number;
}

export const INITIAL_SHARD_STATE: ShardState = { k: MIN_SHARD_FACTOR, above: 0, below: 0, sinceShrink: REGROW_WINDOWS + 1, hold: 0, lastHold: 0 };

/**
 * The state after one window. `target` is what the smoothed score asks for, `windowTarget` what the
 * window's own score asks for. A window counts towards growth only when both ask for more than k:
 * the smoothed score remembers one slow window for several more (and, decaying by count, keeps it
 * through idle windows), so growth on it alone would shard a tenant for one slow window, or for
 * windows with no requests at all. A change of k is a rebalance event.
 */
export function stepShardState(state: ShardState, target: number, windowTarget: number): ShardState {
  const sinceShrink = Math.min(state.sinceShrink + 1, REGROW_WINDOWS + 1);
  // A shrink that stayed: the tenant does not flap (any more).
  const lastHold = state.sinceShrink === REGROW_WINDOWS ? 0 : state.lastHold;
  const hold = Math.max(0, state.hold - 1);
  // A window that changes nothing (most windows of most tenants) gives back the state itself
  // rather than a copy: the tracker steps every tenant every window.
  const unchanged = state.above === 0 && state.below === 0 && sinceShrink === state.sinceShrink && hold === state.hold && lastHold === state.lastHold;
  const steady = unchanged ? state : { k: state.k, above: 0, below: 0, sinceShrink, hold, lastHold };
  if (target > state.k) {
    if (windowTarget <= state.k) return steady;
    const above = state.above + 1;
    if (above < GROW_AFTER_WINDOWS) return { ...steady, above };
    // Growth ends any shrink's stretch: only a later shrink that stands forgets the holds.
    const grown = { ...steady, k: target, sinceShrink: REGROW_WINDOWS + 1 };
    if (sinceShrink > REGROW_WINDOWS) return grown;
    const flapHold = lastHold === 0 ? FIRST_HOLD_WINDOWS : Math.min(MAX_HOLD_WINDOWS, 2 * lastHold);
    return { ...grown, hold: flapHold, lastHold: flapHold };
  }
  if (target < state.k && state.hold === 0) {
    const below = state.below + 1;
    return below >= SHRINK_AFTER_WINDOWS ? { ...steady, k: state.k - 1, sinceShrink: 0 } : { ...steady, below };
  }
  return steady;
}
