/**
 * Anti-churn: the coordinator recomputes every node's points each window (node-weight.ts) but
 * republishes a cluster's ring only when a node joins or leaves it, or when a node's points moved
 * by more than a threshold from what was last PUBLISHED (not from the previous window, so slow
 * drift still adds up to a republish). A rebuild moves only the keys of the nodes whose points
 * changed: a node's points are `${id}-0 …`, a prefix that grows or shrinks, and a key moves only
 * when its nearest point was added or removed (ring.ts).
 */
import { VNODES_PER_WEIGHT, type RingMember } from './ring.js';

/**
 * Ring points by node index in the cluster's node list; 0 or a missing entry is off the ring.
 * A plain array of counts qualifies.
 */
export interface PublishedPoints {
  readonly [nodeIndex: number]: number;
}

export const DEFAULT_REPUBLISH_THRESHOLD = 0.1;

const onRing = (points: number | undefined): points is number => points !== undefined && points > 0;

/**
 * True when `wanted` differs from `published` in membership, or in any node's points by more than
 * `threshold` × its published points (so 150 → 165 keeps the ring, 150 → 166 rebuilds it).
 */
export function needsRepublish(published: PublishedPoints, wanted: PublishedPoints, threshold = DEFAULT_REPUBLISH_THRESHOLD): boolean {
  for (const key of new Set([...Object.keys(published), ...Object.keys(wanted)])) {
    const node = Number(key);
    const before = published[node];
    const now = wanted[node];
    if (!onRing(before)) {
      if (onRing(now)) return true;
      continue;
    }
    if (!onRing(now) || Math.abs(now - before) > threshold * before) return true;
  }
  return false;
}

/**
 * The points to publish when a ring is rebuilt: each node keeps its `published` points while its
 * `wanted` ones stay within `threshold` of them (the rule needsRepublish applies) and they are no
 * more than its `most` (what its configured weight gives: a ring made new for a lowered weight has
 * no room for more), and takes `wanted` otherwise (joining, leaving, or moved past it). A rebuild
 * asked for by one node then moves only that node's keys, not the small drifts every other
 * node's hysteresis was holding back.
 */
export function heldPoints(published: PublishedPoints, wanted: readonly number[], most: readonly number[], threshold = DEFAULT_REPUBLISH_THRESHOLD): number[] {
  return wanted.map((now, node) => {
    const before = published[node];
    return onRing(before) && onRing(now) && Math.abs(now - before) <= threshold * before && before <= most[node]! ? before : now;
  });
}

/**
 * A RingMember weight that buildRing turns into exactly `points` points. points / 150 would not:
 * ceil(21 / 150 × 150) is 22 (74 of 1..1,500 round up). Half a point below is safe from that.
 */
export function weightForPoints(points: number): number {
  return (points - 0.5) / VNODES_PER_WEIGHT;
}

/** Ring members for `points`, skipping nodes off the ring; `ids` is the cluster's node ids by index. */
export function membersForPoints(ids: readonly string[], points: PublishedPoints): RingMember[] {
  const members: RingMember[] = [];
  ids.forEach((id, index) => {
    const count = points[index];
    if (onRing(count)) members.push({ index, id, weight: weightForPoints(count) });
  });
  return members;
}
