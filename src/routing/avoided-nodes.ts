/**
 * The head of every selection chain: nodes one request must not be given again (the node a retry
 * follows, a half-open node whose last probe token another thread took). Empty for nearly every
 * walk, so it costs one comparison per candidate.
 */
import { Verdict, type NodePredicate } from './selection.js';

export class AvoidedNodes implements NodePredicate {
  readonly #next: NodePredicate;
  readonly #avoided: Int32Array;
  #count = 0;

  /** `capacity`: the most nodes one request can avoid (its cluster's node count). */
  constructor(next: NodePredicate, capacity: number) {
    this.#next = next;
    this.#avoided = new Int32Array(Math.max(1, capacity));
  }

  /** Before a request's first walk. */
  clear(): void {
    this.#count = 0;
  }

  avoid(node: number): void {
    if (this.#count < this.#avoided.length) this.#avoided[this.#count++] = node;
  }

  get count(): number {
    return this.#count;
  }

  verdict(node: number, load: number): Verdict {
    for (let i = 0; i < this.#count; i++) if (this.#avoided[i] === node) return Verdict.Reject;
    return this.#next.verdict(node, load);
  }
}
