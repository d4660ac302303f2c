import type { Logger } from '../log.js';
import { vnodeCount, type Hash32 } from '../routing/ring.js';
import { heldPoints, membersForPoints, needsRepublish } from '../routing/ring-churn.js';
import type { Cluster } from './node-state.js';
import { RecentEvents, RING_EVENT_MOVES, type RingEvent } from './recent-events.js';
import { RingPublisher } from './ring-publisher.js';
import type { ClusterRing } from './rings.js';

/** Points of each of a cluster's `nodeCount` nodes (by index in the cluster) on `ring` as built. */
export function pointsOnRing(ring: ClusterRing, nodeCount: number): number[] {
  const points = new Array<number>(nodeCount).fill(0);
  for (const owner of ring.data.owners) points[owner]!++;
  return points;
}

/**
 * Republishes a cluster's ring when the points its nodes want have moved past the hysteresis
 * threshold (routing/ring-churn.ts), not on every small change, and keeps the last republishes
 * for the admin API and the dashboard.
 */
export class RingRepublisher {
  readonly #publisher: RingPublisher;
  readonly #log: Logger;
  readonly #events = new RecentEvents<RingEvent>();

  constructor(hash32: Hash32, log: Logger) {
    this.#publisher = new RingPublisher(hash32);
    this.#log = log;
  }

  /** Republishes since start. */
  get count(): number {
    return this.#events.count;
  }

  /** The last republishes, oldest first. */
  recent(): RingEvent[] {
    return this.#events.recent();
  }

  /**
   * `wanted`: each node's points now (by index in the cluster); the ring follows if they moved
   * enough (`at`: when, epoch ms, for the events the dashboard lists). Resolves true once the ring acceptors read is that one (or a later one); when it did
   * not need to move, once a build still running for it is installed. False when a build failed
   * and the previous ring stays. `inline`: built here, however large, unless a worker builds it.
   */
  update(cluster: Cluster, wanted: number[], at: number, inline = false): Promise<boolean> {
    if (cluster.fresh !== true && !needsRepublish(cluster.published, wanted)) {
      return this.#publisher.settled(cluster.ring).then(
        () => true,
        () => false,
      );
    }
    cluster.fresh = false;
    // Only the nodes past the threshold (or joining, leaving) move: the others keep their points.
    wanted = heldPoints(
      cluster.published,
      wanted,
      cluster.nodes.map((node) => vnodeCount(node.config.weight)),
    );
    const allMoves = cluster.nodes.flatMap((node, i) => (node.points === wanted[i] ? [] : [{ node: node.id, from: node.points, to: wanted[i]! }]));
    const moves = allMoves.length <= RING_EVENT_MOVES ? allMoves : allMoves.sort((a, b) => Math.abs(b.to - b.from) - Math.abs(a.to - a.from)).slice(0, RING_EVENT_MOVES);
    this.#events.record({ kind: 'ring', at, cluster: cluster.name, moved: allMoves.length, moves });
    cluster.published = wanted;
    cluster.nodes.forEach((node, i) => (node.points = wanted[i]!));
    const members = membersForPoints(
      cluster.nodes.map((node) => node.id),
      wanted,
    );
    return this.#publisher.publish(cluster.ring, members, wanted.reduce((a, b) => a + b, 0), inline).then(
      () => {
        this.#log.info({ cluster: cluster.name, moved: allMoves.length, moves }, 'ring republished');
        return true;
      },
      (err: Error) => {
        this.#log.error({ err, cluster: cluster.name }, 'ring build failed; acceptors keep the previous ring');
        // The acceptors still read the ring installed last: it is what was published, so the next
        // update builds again. Unless a later update asked for another ring meanwhile.
        if (cluster.published === wanted) {
          cluster.published = pointsOnRing(cluster.ring, cluster.nodes.length);
          cluster.nodes.forEach((node, i) => (node.points = cluster.published[i]!));
        }
        return false;
      },
    );
  }

  async close(): Promise<void> {
    await this.#publisher.close();
  }
}
