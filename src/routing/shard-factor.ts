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
 * What the score of a tenant spread over k nodes asks for. Fewer than k only if the score it
 * would have on k − 1 nodes (score × k / (k − 1), as if its latency were its own load queueing)
 * still asks for fewer: spreading a tenant lowers its latency, so its score on k nodes alone
 * would ask for fewer, and on fewer for k again (k flapping between two values for good, for
 * single-node latencies of 400–600 ms, 1.2–1.6 s or 2.4–3 s).
 */
export function targetShardFactorAt(score: number, k: number, hotScore: number): number {
  const target = targetShardFactor(score, hotScore);
  if (target >= k || k <= MIN_SHARD_FACTOR) return target;
  return Math.min(k, targetShardFactor((score * k) / (k - 1), hotScore));
}

export interface ShardState {
  readonly k: number;
  /** Consecutive windows whose target was above k. */
  readonly above: number;
  /** Consecutive windows whose target was below k. */
  readonly below: number;
}

export const INITIAL_SHARD_STATE: ShardState = { k: MIN_SHARD_FACTOR, above: 0, below: 0 };

/**
 * The state after one window. `target` is what the smoothed score asks for, `windowTarget` what the
 * window's own score asks for. A window counts towards growth only when both ask for more than k:
 * the smoothed score remembers one slow window for several more (and, decaying by count, keeps it
 * through idle windows), so growth on it alone would shard a tenant for one slow window, or for
 * windows with no requests at all. A change of k is a rebalance event.
 */
export function stepShardState(state: ShardState, target: number, windowTarget: number): ShardState {
  if (target > state.k) {
    if (windowTarget <= state.k) return { k: state.k, above: 0, below: 0 };
    const above = state.above + 1;
    return above >= GROW_AFTER_WINDOWS ? { k: target, above: 0, below: 0 } : { k: state.k, above, below: 0 };
  }
  if (target < state.k) {
    const below = state.below + 1;
    return below >= SHRINK_AFTER_WINDOWS ? { k: state.k - 1, above: 0, below: 0 } : { k: state.k, above: 0, below };
  }
  return { k: state.k, above: 0, below: 0 };
}
