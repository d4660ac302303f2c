import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { IdleScavenger } from '../../src/acceptor/idle-scavenge.js';

const youngUsed = (): number => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')!.space_used_size;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Where each object goes, so that the compiler cannot leave it unmade. */
let kept: unknown;
/** Short-lived objects, as requests leave behind: about `kib` KiB of the young generation. */
function garbage(kib: number): unknown {
  for (let i = 0; i < kib * 16; i++) kept = { i, text: `request ${i}`, list: [i, i + 1] };
  return kept;
}

describe('IdleScavenger', () => {
  it('scavenges at the end of the turn in which the last open request ended, once the young generation is full enough', async () => {
    let open = 0;
    const scavenger = new IdleScavenger(1, () => open);
    garbage(256);
    const before = youngUsed();
    scavenger.idle(performance.now());
    await nextTurn();
    expect(youngUsed()).toBeLessThan(before / 2);
    // Not while a request is open at the turn's end (one read in the same turn).
    garbage(256);
    const busy = youngUsed();
    scavenger.idle(performance.now() + 10);
    open = 1;
    await nextTurn();
    expect(youngUsed()).toBeGreaterThanOrEqual(busy);
  });

  it('leaves a young generation below its share to V8, and looks once a millisecond at most', async () => {
    const scavenger = new IdleScavenger(95, () => 0);
    garbage(64);
    const before = youngUsed();
    scavenger.idle(performance.now());
    await nextTurn();
    expect(youngUsed()).toBeGreaterThanOrEqual(before);
    const eager = new IdleScavenger(1, () => 0);
    const now = performance.now();
    eager.idle(now);
    await nextTurn();
    garbage(256);
    const after = youngUsed();
    eager.idle(now + 0.5);
    await nextTurn();
    expect(youngUsed()).toBeGreaterThanOrEqual(after);
    eager.idle(now + 1);
    await nextTurn();
    expect(youngUsed()).toBeLessThan(after / 2);
  });
});
