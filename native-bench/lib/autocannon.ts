import { createRequire } from 'node:module';
import { runToEnd, type CpuList } from './proc.js';
import { describeErrors, type LoadResult } from './wrk.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

interface AutocannonJson {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  '3xx': number;
}

/**
 * The owner's workflow: autocannon's CLI, one GET shape. Its latency histogram has 1 ms
 * resolution, so p50/p99 from it are coarse; wrk's are the ones to compare. Every request gets
 * its own query (`-I` puts a new id in place of `[<id>]`), as the wrk scenarios cycle theirs: 64
 * connections asking for one URL at once would be multiplexed into a fraction of the upstream
 * calls by ringgate's `multiplex`, which the bench configures but must not trigger. (The query
 * must not end with the placeholder's `]`: autocannon's argument parser, subarg, would take the
 * URL for the end of a [ … ] group and print its usage.)
 */
export async function runAutocannon(url: string, tenant: string, connections: number, seconds: number, cpus: CpuList): Promise<LoadResult> {
  const args = [AUTOCANNON, '-c', String(connections), '-d', String(seconds), '-H', `x-tenant-id=${tenant}`, '-I', '--json', `${url}?r=[<id>]&via=autocannon`];
  const out = JSON.parse(await runToEnd(process.execPath, args, cpus, (seconds + 30) * 1000)) as AutocannonJson;
  return {
    requests: out.requests.total,
    // Its non2xx counts 3xx too.
    answered: out['2xx'] + out['3xx'],
    seconds: out.duration,
    rps: out.requests.total / out.duration,
    p50Ms: out.latency.p50,
    p99Ms: out.latency.p99,
    errors: out.errors + out.timeouts + out.non2xx,
    errorKinds: describeErrors([
      ['errors', out.errors],
      ['timeouts', out.timeouts],
      ['non-2xx', out.non2xx],
    ]),
  };
}
