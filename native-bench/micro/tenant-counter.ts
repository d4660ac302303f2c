import type { MicroSuite } from './suite.js';

const SLOTS = 16_384;

/**
 * The per-request tenant counter update: Atomics.add into a SharedArrayBuffer slot (what every
 * acceptor does, visible to the coordinator at once) against a plain increment on thread-local
 * memory, and against a Map keyed by tenant id (the naive per-thread table that would then have
 * to be shipped to the coordinator).
 */
export function tenantCounterSuite(batch: number): MicroSuite {
  const sharedCounters = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  const localCounters = new Int32Array(SLOTS);
  const map = new Map<string, { requests: number }>();
  const slots = Uint32Array.from({ length: batch }, (_, i) => (i * 2_654_435_761) % SLOTS);
  const tenants = Array.from({ length: batch }, (_, i) => `tenant-${i % 1000}`);
  return {
    title: 'Tenant counter update (per update)',
    tasks: [
      {
        name: 'Atomics.add on a SharedArrayBuffer Int32Array',
        run: () => {
          for (let i = 0; i < batch; i++) Atomics.add(sharedCounters, slots[i]!, 1);
        },
      },
      {
        name: 'plain increment on a thread-local Int32Array',
        run: () => {
          for (let i = 0; i < batch; i++) localCounters[slots[i]!]! += 1;
        },
      },
      {
        name: 'Map<tenant id, counters> get + increment (thread-local)',
        run: () => {
          for (let i = 0; i < batch; i++) {
            const tenant = tenants[i]!;
            const entry = map.get(tenant);
            if (entry === undefined) map.set(tenant, { requests: 1 });
            else entry.requests++;
          }
        },
      },
    ],
  };
}
