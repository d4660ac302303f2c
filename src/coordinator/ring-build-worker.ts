import { loadHash32 } from '../hash.js';
import { buildRing, type RingData, type RingMember } from '../routing/ring.js';

/**
 * A piscina task: builds a cluster's ring off the coordinator's event loop (large fleets take
 * ~1 ms per 1,500 points). The result is structured-cloned back: copying 150,000 points' arrays
 * costs well under a millisecond, and piscina transfers only a task's top-level value.
 */
const hash32 = await loadHash32();

export default function build(members: readonly RingMember[]): RingData {
  return buildRing(members, hash32);
}
