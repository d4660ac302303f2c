import { buildRing, lookup, type Hash32, type RingMember } from '../../src/routing/ring.js';
import { createSharedRing, lookupShared, publishRing } from '../../src/shm/ring-buffer.js';
import type { MicroSuite, MicroTask } from './suite.js';

/**
 * The ring lookup every request makes: the shared seqlock ring (what acceptors read) against the
 * same lookup on a thread-local plain ring (what a per-thread copy pushed by postMessage would be).
 */
export function ringLookupSuite(hash32: Hash32, batch: number): MicroSuite {
  const tasks: MicroTask[] = [];
  for (const nodes of [10, 100]) {
    const members: RingMember[] = Array.from({ length: nodes }, (_, index) => ({ index, id: `node-${index}`, weight: 1 }));
    const data = buildRing(members, hash32);
    const shared = createSharedRing(data.hashes.length);
    publishRing(shared, data);
    const keys = Uint32Array.from({ length: batch }, (_, i) => hash32(`tenant-${i}`));
    let sink = 0;
    tasks.push(
      {
        name: `lookupShared, ${nodes} nodes (${data.hashes.length} points, SharedArrayBuffer + seqlock)`,
        run: () => {
          for (let i = 0; i < batch; i++) sink += lookupShared(shared, keys[i]!);
        },
      },
      {
        name: `lookup, ${nodes} nodes (plain typed arrays, no seqlock)`,
        run: () => {
          for (let i = 0; i < batch; i++) sink += lookup(data, keys[i]!);
        },
      },
    );
    if (sink === -1) throw new Error('unreachable: keeps the loop from being optimised away');
  }
  return { title: 'Ring lookup (per lookup; 8-probe multi-probe, bucket index + binary search in the bucket)', tasks };
}
