/**
 * Consistent-hash ring (Karger et al. 1997, as in ketama and Envoy's ring_hash): every node owns
 * ceil(weight × VNODES_PER_WEIGHT) points; a key belongs to the first point clockwise from its hash.
 * Pure: the hash function is passed in, so tests, benchmarks and the coordinator share this code.
 */
export const VNODES_PER_WEIGHT = 150;

export interface RingMember {
  /** Index of the node in its cluster's node list; what a lookup returns. */
  readonly index: number;
  readonly id: string;
  readonly weight: number;
}

export interface RingData {
  /** Point hashes, ascending. */
  readonly hashes: Uint32Array;
  /** Node index owning the point at the same position. */
  readonly owners: Uint16Array;
}

export type Hash32 = (key: string) => number;

export function vnodeCount(weight: number): number {
  return Math.ceil(weight * VNODES_PER_WEIGHT);
}

export function ringSize(members: readonly RingMember[]): number {
  let total = 0;
  for (const m of members) total += vnodeCount(m.weight);
  return total;
}

export function buildRing(members: readonly RingMember[], hash32: Hash32): RingData {
  const size = ringSize(members);
  const pointHashes = new Uint32Array(size);
  const pointOwners = new Uint16Array(size);
  let at = 0;
  for (const member of members) {
    const points = vnodeCount(member.weight);
    for (let i = 0; i < points; i++) {
      pointHashes[at] = hash32(`${member.id}-${i}`);
      pointOwners[at] = member.index;
      at++;
    }
  }
  // Sort positions by (hash, owner) so equal hashes resolve the same way on every build.
  const order = Array.from({ length: size }, (_, i) => i).sort(
    (a, b) => pointHashes[a]! - pointHashes[b]! || pointOwners[a]! - pointOwners[b]!,
  );
  const hashes = new Uint32Array(size);
  const owners = new Uint16Array(size);
  order.forEach((from, to) => {
    hashes[to] = pointHashes[from]!;
    owners[to] = pointOwners[from]!;
  });
  return { hashes, owners };
}

/**
 * Position of the first point at or after `keyHash` (wrapping to 0), by binary search over
 * `hashes[base .. base + count)`. Returns an offset relative to `base`; `count` must be > 0.
 */
export function findPoint(hashes: Uint32Array, base: number, count: number, keyHash: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[base + mid]! < keyHash) lo = mid + 1;
    else hi = mid;
  }
  return lo === count ? 0 : lo;
}

/** Node index owning `keyHash` on a standalone ring, or -1 when the ring is empty. */
export function lookup(ring: RingData, keyHash: number): number {
  const count = ring.hashes.length;
  if (count === 0) return -1;
  return ring.owners[findPoint(ring.hashes, 0, count, keyHash)]!;
}
