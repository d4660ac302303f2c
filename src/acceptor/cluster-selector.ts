import type { AvoidedNodes } from '../routing/avoided-nodes.js';
import type { BoundedLoad } from '../routing/bounded-load.js';
import type { CircuitGate } from '../routing/circuit-gate.js';
import type { SaturationLimit } from '../routing/saturation.js';
import { CandidateWalk, leastLoaded, type NodeLoads } from '../routing/selection.js';
import type { RingVisitor } from '../shm/ring-buffer.js';
import type { WalkOutcome } from '../routing/routing-reason.js';

/** The predicates of one cluster's selection chain that a walk sets up or reads back. */
export interface SelectionRules {
  /** Head of the chain: the nodes a retry must not go back to. */
  readonly avoided: AvoidedNodes;
  /** The load-bound predicate when routing is adaptive (its bound is set per request); null in plain mode. */
  readonly bounded: BoundedLoad | null;
  /** The cluster's maxInFlight rule; null without one. */
  readonly saturation: SaturationLimit | null;
  /** The cluster's circuit breakers; null when they are off. */
  readonly circuits: CircuitGate | null;
}

/**
 * One cluster's selection, per thread: the candidate walk over the ring with the cluster's
 * predicates, run inside the ring's seqlock read. `k` is set per request before the read.
 */
export class ClusterSelector implements RingVisitor {
  k = 1;
  readonly #walk: CandidateWalk;
  /** Where least-connections starts looking, moved on each time so ties spread. */
  #rotation = 0;
  readonly avoided: AvoidedNodes;
  readonly bounded: BoundedLoad | null;
  readonly saturation: SaturationLimit | null;
  readonly circuits: CircuitGate | null;

  constructor(
    readonly nodes: number,
    readonly loads: NodeLoads,
    rules: SelectionRules,
  ) {
    this.#walk = new CandidateWalk(nodes);
    this.avoided = rules.avoided;
    this.bounded = rules.bounded;
    this.saturation = rules.saturation;
    this.circuits = rules.circuits;
  }

  /** Before a request's walks: what the last request's walks remembered is forgotten. */
  begin(): void {
    this.avoided.clear();
    this.saturation?.begin();
    this.circuits?.begin();
  }

  /** How the last ring walk ended (WalkOutcome): why its node. */
  get walkOutcome(): WalkOutcome {
    return this.#walk.outcome;
  }

  visit(owners: Uint16Array, base: number, count: number, start: number): number {
    return this.#walk.choose(owners, base, count, start, this.k, this.loads, this.avoided);
  }

  /** The least loaded usable node, whatever the ring says (-1: none). */
  leastConnections(): number {
    if (this.nodes === 0) return -1;
    this.#rotation = (this.#rotation + 1) % this.nodes;
    return leastLoaded(this.nodes, this.#rotation, this.loads, this.avoided);
  }
}
