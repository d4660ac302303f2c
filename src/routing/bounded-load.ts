/**
 * Node choice for a key with shard factor k (issue 4): consistent hashing with bounded loads
 * (Mirrokni, Thorup, Zadimoghaddam 2018; HAProxy's hash-balance-factor). Candidates are the
 * distinct nodes met walking clockwise from the key's point; the key goes to the least loaded of
 * the first k that fits under the bound, and when none of them fits, walks on clockwise to the
 * first node that does. With k = 1 a key stays on its own node for as long as that node fits,
 * which is what keeps caches warm.
 */

/**
 * The most in-flight requests a node may hold after taking one more: `balanceFactor` × the
 * cluster mean counting that request, rounded up (HAProxy's rule). The least loaded node always
 * fits under it.
 */
export function loadBound(totalInFlight: number, nodes: number, balanceFactor: number): number {
  return Math.ceil((balanceFactor * (totalInFlight + 1)) / nodes);
}

/**
 * The first `limit` distinct owners met walking clockwise from ring position `start` (wrapping),
 * in that order. For views (the admin API); the request path uses BoundedLoadChooser.
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
 * The walk, without allocating: one per cluster and thread. Loads are read with Atomics.load from
 * `loads[loadBase + node × loadStride]`, so the shared node table is read in place.
 */
export class BoundedLoadChooser {
  /** seen[node] === stamp: the node was met in the current walk. */
  readonly #seen: Uint32Array;
  #stamp = 0;
  readonly #loads: Int32Array;
  readonly #loadBase: number;
  readonly #loadStride: number;

  constructor(
    readonly nodes: number,
    loads: Int32Array,
    loadBase: number,
    loadStride: number,
  ) {
    this.#seen = new Uint32Array(nodes);
    this.#loads = loads;
    this.#loadBase = loadBase;
    this.#loadStride = loadStride;
  }

  /**
   * The node for a key whose point is `owners[base + start]`, in a ring of `count` points
   * (`start` < `count`): among the first `k` distinct nodes clockwise, the least loaded (the
   * earlier on ties) whose load + 1 fits `bound`; else the first later one that fits; else (never
   * with a bound from loadBound) the least loaded met.
   */
  choose(owners: ArrayLike<number>, base: number, count: number, start: number, k: number, bound: number): number {
    if (++this.#stamp === 0xffffffff) {
      this.#seen.fill(0);
      this.#stamp = 1;
    }
    const stamp = this.#stamp;
    let distinct = 0;
    let best = -1;
    let bestLoad = Infinity;
    let least = -1;
    let leastLoad = Infinity;
    let position = start;
    for (let step = 0; step < count; step++) {
      const node = owners[base + position]!;
      if (++position === count) position = 0;
      if (this.#seen[node] === stamp) continue;
      this.#seen[node] = stamp;
      const load = Atomics.load(this.#loads, this.#loadBase + node * this.#loadStride);
      if (load < leastLoad) {
        least = node;
        leastLoad = load;
      }
      distinct++;
      if (distinct <= k) {
        if (load + 1 <= bound && load < bestLoad) {
          best = node;
          bestLoad = load;
        }
        if (distinct === k && best >= 0) return best;
      } else if (load + 1 <= bound) {
        return node;
      }
      if (distinct === this.nodes) break;
    }
    return best >= 0 ? best : least;
  }
}
