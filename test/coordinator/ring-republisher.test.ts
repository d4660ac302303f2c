import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { pointsOnRing, RingRepublisher } from '../../src/coordinator/ring-republisher.js';
import type { RingEvent } from '../../src/coordinator/recent-events.js';
import type { Cluster } from '../../src/coordinator/node-state.js';
import { loadHash32 } from '../../src/hash.js';
import { buildRing, type Hash32 } from '../../src/routing/ring.js';
import { membersForPoints } from '../../src/routing/ring-churn.js';
import { createSharedRing } from '../../src/shm/ring-buffer.js';

let hash32: Hash32;
beforeAll(async () => {
  hash32 = await loadHash32();
});

/** A cluster of two nodes at 10 points each whose shared ring holds `capacity` points. */
function cluster(capacity: number): Cluster {
  const nodes = [
    { id: 'a', points: 10, config: { weight: 10 } },
    { id: 'b', points: 10, config: { weight: 10 } },
  ];
  const ring = { shared: createSharedRing(capacity), data: buildRing(membersForPoints(['a', 'b'], [10, 10]), hash32) };
  return { name: 'c', nodes, ring, published: [10, 10] } as unknown as Cluster;
}

describe('ring republisher', () => {
  it('builds again on the next update after a build failed, and reports it failed until one succeeds', async () => {
    const republisher = new RingRepublisher(hash32, pino({ level: 'silent' }));
    // 40 points fit; 400 do not.
    const c = cluster(40);
    expect(await republisher.update(c, [200, 200], 1)).toBe(false);
    // The acceptors still read the 20-point ring: what was published is what they read.
    expect(c.published).toEqual([10, 10]);
    expect(c.nodes.map((node) => node.points)).toEqual([10, 10]);
    expect(await republisher.update(c, [200, 200], 2)).toBe(false);
    // Each try counts as the republish it asked for (the log says it failed).
    expect(republisher.count).toBe(2);
    expect(await republisher.update(c, [15, 15], 3)).toBe(true);
    expect(pointsOnRing(c.ring, 2)).toEqual([15, 15]);
    expect(republisher.recent().at(-1)).toEqual({ kind: 'ring', at: 3, cluster: 'c', moved: 2, moves: [{ node: 'a', from: 10, to: 15 }, { node: 'b', from: 10, to: 15 }] });
    expect(c.ring.data.hashes.length).toBe(30);
    expect(c.published).toEqual([15, 15]);
    await republisher.close();
  });

  it('keeps the nodes that moved most in its event, and how many moved: a ring made new moves them all', async () => {
    const republisher = new RingRepublisher(hash32, pino({ level: 'silent' }));
    const ids = Array.from({ length: 30 }, (_, i) => `n${i}`);
    const nodes = ids.map((id) => ({ id, points: 10, config: { weight: 10 } }));
    const ring = { shared: createSharedRing(2_000), data: buildRing(membersForPoints(ids, ids.map(() => 10)), hash32) };
    const c = { name: 'c', nodes, ring, published: ids.map(() => 10) } as unknown as Cluster;
    // Node i wants 20 + i points, twice its 10 and more: each moves, n29 most.
    expect(await republisher.update(c, ids.map((_, i) => 20 + i), 1)).toBe(true);
    const event = republisher.recent().at(-1) as RingEvent;
    expect(event.moved).toBe(30);
    expect(event.moves.map((move) => move.node)).toEqual(ids.slice(10).reverse());
    await republisher.close();
  });
});
