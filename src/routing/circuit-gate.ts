/**
 * Circuit breakers as a selection predicate (issue 11): a node whose breaker is open takes no
 * requests, like an unhealthy one; a half-open node takes only as many as it has probe tokens
 * (the selector takes the token once it settles on the node). It remembers whether it turned a
 * node away during the current walk, so that a walk that found no node can answer 503
 * ERR_CIRCUIT_OPEN rather than ERR_RING_EMPTY.
 */
import { BreakerState } from '../resilience/breaker.js';
import { Verdict, type NodePredicate } from './selection.js';

/** Breaker states of one cluster's nodes, by the node's index in its cluster. */
export interface CircuitStates {
  state(node: number): BreakerState;
  probesLeft(node: number): number;
  /** Takes a probe token of a half-open node, of half-open period `period` only: the refill it is of, or -1 when none is left. */
  takeProbe(node: number, period: number): number;
  /** The half-open period the node's tokens are of. */
  probePeriod(node: number): number;
}

export class CircuitGate implements NodePredicate {
  readonly #states: CircuitStates;
  /** The rules that apply to a node whose circuit lets it through, or null: it is accepted. */
  readonly #next: NodePredicate | null;
  /** A node was turned away for its breaker since the last begin(). */
  sawOpen = false;
  /** The last admit() took a half-open node's probe token: the request is that node's probe. */
  tookProbe = false;
  /** Then: the half-open period its token is of, and the refill of that period's tokens. */
  probePeriod = 0;
  probeRefill = 0;

  constructor(states: CircuitStates, next: NodePredicate | null) {
    this.#states = states;
    this.#next = next;
  }

  /** Before each walk. */
  begin(): void {
    this.sawOpen = false;
    this.tookProbe = false;
  }

  verdict(node: number, load: number): Verdict {
    const state = this.#states.state(node);
    if (state !== BreakerState.Closed && (state === BreakerState.Open || this.#states.probesLeft(node) === 0)) {
      this.sawOpen = true;
      return Verdict.Reject;
    }
    return this.#next === null ? Verdict.Accept : this.#next.verdict(node, load);
  }

  /** The half-open periods `node`'s breaker has had so far. */
  periodOf(node: number): number {
    return this.#states.probePeriod(node);
  }

  /**
   * Once the walk settled on `node`: a half-open node's probe token is taken now (so a walk that
   * looked at it and went elsewhere costs none). False, as a verdict's refusal: another thread
   * took the last token first, or the node opened since its verdict (its state is read again); one
   * that closed since is admitted.
   */
  admit(node: number): boolean {
    this.tookProbe = false;
    const state = this.#states.state(node);
    if (state === BreakerState.Closed) return true;
    if (state === BreakerState.HalfOpen) {
      // The period first, then a token of it: read after, it could be of a period begun meanwhile,
      // which the token taken (from the tokens before) would then join, one over its probes.
      const period = this.#states.probePeriod(node);
      const refill = this.#states.takeProbe(node, period);
      if ((this.tookProbe = refill >= 0)) {
        this.probePeriod = period;
        this.probeRefill = refill;
        return true;
      }
      // No token: the node may have closed meanwhile (its tokens are zeroed before its state).
      if (this.#states.state(node) === BreakerState.Closed) return true;
    }
    this.sawOpen = true;
    return false;
  }
}
