import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// From dist: the pool's worker is the built ring-build-worker.js next to it.
import { RingPublisher } from '../../dist/coordinator/ring-publisher.js';
import { loadHash32 } from '../../src/hash.js';
import { buildRing, lookup, type Hash32, type RingMember } from '../../src/routing/ring.js';
import { createSharedRing, lookupShared } from '../../src/shm/ring-buffer.js';

let hash32: Hash32;
let publisher: RingPublisher;
beforeAll(async () => {
  hash32 = await loadHash32();
  // Any ring over 100 points goes to the worker.
  publisher = new RingPublisher(hash32, 100);
});
afterAll(async () => {
  await publisher.close();
});

const members = (n: number, weight = 1): RingMember[] => Array.from({ length: n }, (_, index) => ({ index, id: `node-${index}`, weight }));

describe('ring publisher', () => {
  it('builds a large ring on a worker into exactly what a build on the coordinator gives', async () => {
    const ring = { shared: createSharedRing(30 * 150), data: buildRing([], hash32) };
    await publisher.publish(ring, members(30), 30 * 150);
    const expected = buildRing(members(30), hash32);
    expect(Array.from(ring.data.hashes)).toEqual(Array.from(expected.hashes));
    expect(Array.from(ring.data.owners)).toEqual(Array.from(expected.owners));
    for (let i = 0; i < 2_000; i++) {
      const key = hash32(`k${i}`);
      expect(lookupShared(ring.shared, key)).toBe(lookup(expected, key));
    }
  });

  it('resolves an ask queued behind a build only once its ring is the one readers see', async () => {
    const ring = { shared: createSharedRing(20 * 150), data: buildRing([], hash32) };
    const building = publisher.publish(ring, members(20), 20 * 150);
    await publisher.publish(ring, members(5), 5 * 150);
    // The zone fallback ends on this promise: it must not come before the ring it waits for.
    expect(Array.from(ring.data.owners)).toEqual(Array.from(buildRing(members(5), hash32).owners));
    await building;
  });

  it('is settled for a ring only once the build running for it is installed', async () => {
    const ring = { shared: createSharedRing(20 * 150), data: buildRing([], hash32) };
    await publisher.settled(ring);
    const building = publisher.publish(ring, members(20), 20 * 150);
    await publisher.settled(ring);
    expect(Array.from(ring.data.owners)).toEqual(Array.from(buildRing(members(20), hash32).owners));
    await building;
  });

  it('publishes the latest ring asked for when asks overlap a build', async () => {
    const ring = { shared: createSharedRing(20 * 150), data: buildRing([], hash32) };
    const first = publisher.publish(ring, members(20), 20 * 150);
    const second = publisher.publish(ring, members(12), 12 * 150);
    const third = publisher.publish(ring, members(5), 5 * 150);
    await Promise.all([first, second, third]);
    expect(Array.from(ring.data.owners)).toEqual(Array.from(buildRing(members(5), hash32).owners));
    expect(new Set(ring.data.owners)).toEqual(new Set([0, 1, 2, 3, 4]));
  });
});
