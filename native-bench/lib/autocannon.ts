import { createRequire } from 'node:module';
import { runToEnd, type CpuList } from './proc.js';
import type { LoadResult } from './wrk.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

interface AutocannonJson {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

/**
 * The owner's workflow: autocannon's CLI, one GET shape. Its latency histogram has 1 ms
 * resolution, so p50/p99 from it are coarse; wrk's are the ones to compare.
 */
export async function runAutocannon(url: string, tenant: string, connections: number, seconds: number, cpus: CpuList): Promise<LoadResult> {
  const args = [AUTOCANNON, '-c', String(connections), '-d', String(seconds), '-H', `x-tenant-id=${tenant}`, '--json', url];
  const out = JSON.parse(await runToEnd(process.execPath, args, cpus, (seconds + 30) * 1000)) as AutocannonJson;
  return {
    requests: out.requests.total,
    seconds: out.duration,
    rps: out.requests.total / out.duration,
    p50Ms: out.latency.p50,
    p99Ms: out.latency.p99,
    errors: out.errors + out.timeouts + out.non2xx,
  };
}
