/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018; HAProxy's
 * hash-balance-factor) as a selection predicate: no node takes a request that would lift it above
 * `balanceFactor` × its cluster's mean in-flight load, the mean over the nodes that may serve now
 * (node-table.ts, SERVING_NODES). A node over the bound is Overloaded, not Rejected: when threads
 * race for the last free slot and every candidate reads over the bound, the least loaded still
 * takes the request rather than the client getting a 503.
 */
import { Verdict, type NodePredicate } from './selection.js';

/**
 * The most in-flight requests a node may hold after taking one more: `balanceFactor` × the
 * cluster mean counting that request, rounded up (HAProxy's rule). The least loaded node always
 * fits under it.
 */
export function loadBound(totalInFlight: number, nodes: number, balanceFactor: number): number {
  return Math.ceil((balanceFactor * (totalInFlight + 1)) / nodes);
}

/** One per cluster and thread; `bound` is set from the cluster's in-flight total before each walk. */
export class BoundedLoad implements NodePredicate {
  bound = 0;

  verdict(_node: number, load: number): Verdict {
    return load + 1 <= this.bound ? Verdict.Accept : Verdict.Overloaded;
  }
}
