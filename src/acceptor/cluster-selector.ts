import type { BoundedLoad } from '../routing/bounded-load.js';
import type { SaturationLimit } from '../routing/saturation.js';
import { CandidateWalk, leastLoaded, type NodeLoads, type NodePredicate } from '../routing/selection.js';
import type { RingVisitor } from '../shm/ring-buffer.js';

/**
 * One cluster's selection, per thread: the candidate walk over the ring with the cluster's
 * predicates, run inside the ring's seqlock read. `k` is set per request before the read.
 */
export class ClusterSelector implements RingVisitor {
  k = 1;
  readonly #walk: CandidateWalk;
  /** Where least-connections starts looking, moved on each time so ties spread. */
  #rotation = 0;

  constructor(
    readonly nodes: number,
    readonly loads: NodeLoads,
    readonly predicate: NodePredicate,
    /** The load-bound predicate when routing is adaptive (its bound is set per request); null in plain mode. */
    readonly bounded: BoundedLoad | null,
    /** The cluster's maxInFlight rule, in the chain; null without one. */
    readonly saturation: SaturationLimit | null,
  ) {
    this.#walk = new CandidateWalk(nodes);
  }

  visit(owners: Uint16Array, base: number, count: number, start: number): number {
    return this.#walk.choose(owners, base, count, start, this.k, this.loads, this.predicate);
  }

  /** The least loaded usable node, whatever the ring says (-1: none). */
  leastConnections(): number {
    if (this.nodes === 0) return -1;
    this.#rotation = (this.#rotation + 1) % this.nodes;
    return leastLoaded(this.nodes, this.#rotation, this.loads, this.predicate);
  }
}
