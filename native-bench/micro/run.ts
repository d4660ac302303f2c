/** Micro-benchmarks mirroring src/: the numbers behind the shared-memory architecture. */
import { loadHash32 } from '../../src/hash.js';
import { crossThreadSuite } from './cross-thread.js';
import { hashingSuite } from './hashing.js';
import { ringBuildSuite } from './ring-build.js';
import { ringLookupSuite } from './ring-lookup.js';
import { microTable, runSuite, type MicroResult } from './suite.js';
import { tenantCounterSuite } from './tenant-counter.js';

const BATCH = 1000;

export async function runMicroBenchmarks(timeMs = 1000): Promise<MicroResult[]> {
  const hash32 = await loadHash32();
  const results: MicroResult[] = [];
  for (const suite of [ringLookupSuite(hash32, BATCH), ringBuildSuite(hash32), tenantCounterSuite(BATCH), await hashingSuite(BATCH)]) {
    results.push(...(await runSuite(suite, BATCH, timeMs)));
  }
  const crossThread = await crossThreadSuite(BATCH);
  try {
    results.push(...(await runSuite(crossThread, BATCH, timeMs)));
  } finally {
    await crossThread.close();
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${microTable(await runMicroBenchmarks())}\n`);
}
