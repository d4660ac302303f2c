import { buildRing, type Hash32, type RingMember } from '../../src/routing/ring.js';
import type { MicroSuite } from './suite.js';

/**
 * A full ring build at weight 1 (150 points a node): hashing every point, sorting, indexing. The
 * coordinator runs it on its own event loop, so this decides from which fleet size builds go to a
 * worker thread instead.
 */
export function ringBuildSuite(hash32: Hash32): MicroSuite {
  const tasks = [10, 100, 1000].map((nodes) => {
    const members: RingMember[] = Array.from({ length: nodes }, (_, index) => ({ index, id: `node-${index}`, weight: 1 }));
    return {
      name: `buildRing, ${nodes} nodes (${nodes * 150} points)`,
      run: () => {
        buildRing(members, hash32);
      },
      batch: 1,
    };
  });
  return { title: 'Ring build (per build; weight 1)', tasks };
}
