/**
 * Node selection over a consistent-hash ring: walk the distinct nodes clockwise from a key's point
 * and take the first acceptable one, Pingora's `select_with` (pingora-load-balancing, selection/).
 * Among the first k distinct nodes (the key's shard factor) the least loaded that the predicate
 * accepts wins; when none of them is accepted, the first later node that is. What "acceptable"
 * means (load bound, and later circuit state, health, saturation, zone) is the predicate's; the
 * walk never changes when a rule is added. Pure: loads and verdicts come in through interfaces, so
 * the acceptors read the shared node table in place and tests use plain arrays.
 */

import { WalkOutcome } from './routing-reason.js';

/** A predicate's answer for one node. */
export const enum Verdict {
  Accept = 0,
  /** Acceptable only when no node is accepted outright (a soft limit such as the load bound). */
  Overloaded = 1,
  /** Never this node for this request (a hard rule such as an open circuit). */
  Reject = 2,
}

/** In-flight requests of each node of one cluster, by the node's index in its cluster. */
export interface NodeLoads {
  load(node: number): number;
}

export interface NodePredicate {
  verdict(node: number, load: number): Verdict;
}

/**
 * The walk, without allocating: one per cluster and thread. Bounded by the ring's points and by
 * the cluster's node count: it stops once every distinct node was met.
 */
export class CandidateWalk {
  /** How the last walk ended: why its node (routing-reason.ts). */
  outcome: WalkOutcome = WalkOutcome.WithinK;
  /** seen[node] === stamp: the node was met in the current walk. */
  readonly #seen: Uint32Array;
  #stamp = 0;

  constructor(readonly nodes: number) {
    this.#seen = new Uint32Array(nodes);
  }

  /**
   * The node for a key whose point is `owners[base + start]` in a ring of `count` points
   * (`start` < `count`): among the first `k` distinct nodes clockwise, the least loaded (the
   * earlier on ties) that `accept` accepts; else the first later node it accepts; else the least
   * loaded it called Overloaded; else -1 (every node rejected).
   */
  choose(owners: ArrayLike<number>, base: number, count: number, start: number, k: number, loads: NodeLoads, accept: NodePredicate): number {
    if (++this.#stamp === 0xffffffff) {
      this.#seen.fill(0);
      this.#stamp = 1;
    }
    const stamp = this.#stamp;
    let distinct = 0;
    let best = -1;
    let bestLoad = Infinity;
    let spill = -1;
    let spillLoad = Infinity;
    let overloaded = false;
    let position = start;
    for (let step = 0; step < count; step++) {
      const node = owners[base + position]!;
      if (++position === count) position = 0;
      if (this.#seen[node] === stamp) continue;
      this.#seen[node] = stamp;
      distinct++;
      const load = loads.load(node);
      const verdict = accept.verdict(node, load);
      if (verdict === Verdict.Accept) {
        if (distinct > k) {
          this.outcome = overloaded ? WalkOutcome.Spilled : WalkOutcome.PastRejected;
          return node;
        }
        if (load < bestLoad) {
          best = node;
          bestLoad = load;
        }
      } else if (verdict === Verdict.Overloaded) {
        overloaded = true;
        if (load < spillLoad) {
          spill = node;
          spillLoad = load;
        }
      }
      if (distinct === k && best >= 0) {
        this.outcome = WalkOutcome.WithinK;
        return best;
      }
      if (distinct === this.nodes) break;
    }
    this.outcome = best >= 0 ? WalkOutcome.WithinK : WalkOutcome.Spilled;
    return best >= 0 ? best : spill;
  }
}

/**
 * The first `limit` distinct owners met walking clockwise from ring position `start` (wrapping),
 * in that order: a key's candidates, for views (the admin API).
 */
export function clockwiseNodes(owners: ArrayLike<number>, start: number, count: number, limit: number): number[] {
  const order: number[] = [];
  for (let step = 0; step < count && order.length < limit; step++) {
    const node = owners[(start + step) % count]!;
    if (!order.includes(node)) order.push(node);
  }
  return order;
}

/**
 * Least connections over a cluster's `nodes`, ignoring the ring (the fallback while the control
 * plane is stale): the least loaded node `accept` accepts, else the least loaded it called
 * Overloaded, else -1. Ties go to the first met from `start`, which callers rotate so that ties
 * spread instead of piling onto node 0.
 */
export function leastLoaded(nodes: number, start: number, loads: NodeLoads, accept: NodePredicate): number {
  let best = -1;
  let bestLoad = Infinity;
  let spill = -1;
  let spillLoad = Infinity;
  for (let i = 0; i < nodes; i++) {
    const node = (start + i) % nodes;
    const load = loads.load(node);
    const verdict = accept.verdict(node, load);
    if (verdict === Verdict.Accept) {
      if (load < bestLoad) {
        best = node;
        bestLoad = load;
      }
    } else if (verdict === Verdict.Overloaded && load < spillLoad) {
      spill = node;
      spillLoad = load;
    }
  }
  return best >= 0 ? best : spill;
}
