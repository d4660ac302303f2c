/**
 * Saturation as a selection predicate (issue 11): a node holding `maxInFlight` requests across all
 * threads takes no more; the walk goes on to the next candidate. It remembers whether it turned a
 * node away during the current walk, so that a walk that found no node can say why: every usable
 * node saturated (503 ERR_UPSTREAM_SATURATED) rather than none usable (ERR_RING_EMPTY).
 */
import { Verdict, type NodePredicate } from './selection.js';

export class SaturationLimit implements NodePredicate {
  readonly #maxInFlight: number;
  /** The rules that apply to a node with room, or null: it is accepted. */
  readonly #next: NodePredicate | null;
  /** A node was turned away as saturated since the last begin(). */
  sawSaturated = false;

  constructor(maxInFlight: number, next: NodePredicate | null) {
    this.#maxInFlight = maxInFlight;
    this.#next = next;
  }

  /** Before each walk. */
  begin(): void {
    this.sawSaturated = false;
  }

  verdict(node: number, load: number): Verdict {
    if (load >= this.#maxInFlight) {
      this.sawSaturated = true;
      return Verdict.Reject;
    }
    return this.#next === null ? Verdict.Accept : this.#next.verdict(node, load);
  }
}
