/**
 * Node choice for a tenant with shard factor k (issue 4): consistent hashing with bounded loads
 * (Mirrokni, Thorup, Zadimoghaddam 2018). Candidates are the distinct nodes clockwise from the
 * tenant's point; the tenant uses the least loaded of the first k that fits under the bound, and
 * when none of them fits walks on clockwise to the first node that does. With k = 1 a tenant
 * stays on its own node for as long as that node fits, which is what keeps caches warm.
 */

/**
 * The most in-flight requests a node may hold after taking one more: `balanceFactor` × the
 * cluster mean counting that request, rounded up. The least loaded node always fits under it.
 */
export function loadBound(totalInFlight: number, nodes: number, balanceFactor: number): number {
  return Math.ceil((balanceFactor * (totalInFlight + 1)) / nodes);
}

/**
 * Distinct owners met walking clockwise from ring position `start` (wrapping), in that order;
 * at most `limit` of them. `owners` is the ring's node index per point.
 */
export function clockwiseNodes(owners: ArrayLike<number>, start: number, count: number, limit: number): number[] {
  const order: number[] = [];
  const seen = new Set<number>();
  for (let step = 0; step < count && order.length < limit; step++) {
    const node = owners[(start + step) % count]!;
    if (!seen.has(node)) {
      seen.add(node);
      order.push(node);
    }
  }
  return order;
}

/**
 * The node to send to, from candidates in clockwise order: among the first `k`, the least loaded
 * (the earlier on ties) whose load + 1 fits `bound`; else the first later one that fits; else
 * (never with a bound from loadBound) the least loaded of all. -1 when there are no candidates.
 */
export function pickNode(order: readonly number[], k: number, inFlight: ArrayLike<number>, bound: number): number {
  let best = -1;
  for (let i = 0; i < Math.min(k, order.length); i++) {
    const node = order[i]!;
    if (inFlight[node]! + 1 <= bound && (best < 0 || inFlight[node]! < inFlight[best]!)) best = node;
  }
  if (best >= 0) return best;
  for (let i = k; i < order.length; i++) {
    if (inFlight[order[i]!]! + 1 <= bound) return order[i]!;
  }
  for (const node of order) if (best < 0 || inFlight[node]! < inFlight[best]!) best = node;
  return best;
}
