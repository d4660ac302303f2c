/**
 * The first selection predicate: nodes that may not take requests (unhealthy, failing to connect)
 * are rejected outright, before the softer rules (the load bound) have a say. Whether a node is
 * usable is read through an interface: the acceptors read the shared node table in place.
 */
import { Verdict, type NodePredicate } from './selection.js';

export interface NodeUsability {
  usable(node: number): boolean;
}

export class UsableNodes implements NodePredicate {
  readonly #usability: NodeUsability;
  /** The rules that apply to a usable node, or null: every usable node is accepted. */
  readonly #next: NodePredicate | null;

  constructor(usability: NodeUsability, next: NodePredicate | null) {
    this.#usability = usability;
    this.#next = next;
  }

  verdict(node: number, load: number): Verdict {
    if (!this.#usability.usable(node)) return Verdict.Reject;
    return this.#next === null ? Verdict.Accept : this.#next.verdict(node, load);
  }
}
