import { groupCpuSeconds, sampleRss, type Started } from './proc.js';
import type { LoadResult } from './wrk.js';

export interface Measured extends LoadResult {
  /** The proxy's CPU time (all its threads and processes) per request answered 2xx or 3xx; null for direct. */
  readonly cpuUsPerRequest: number | null;
  /** Peak resident memory of the proxy's process group during the run, in MiB; null for direct. */
  readonly rssPeakMiB: number | null;
}

/** Runs one load while reading the proxy's CPU time and RSS from /proc around it. */
export async function measure(proxy: Started | null, load: () => Promise<LoadResult>): Promise<Measured> {
  if (proxy === null) return { ...(await load()), cpuUsPerRequest: null, rssPeakMiB: null };
  const stopRss = sampleRss(proxy.pgid);
  const cpuBefore = groupCpuSeconds(proxy.pgid);
  const result = await load();
  const cpuSeconds = groupCpuSeconds(proxy.pgid) - cpuBefore;
  const rssPeak = stopRss();
  return {
    ...result,
    cpuUsPerRequest: result.answered > 0 ? (cpuSeconds * 1e6) / result.answered : null,
    rssPeakMiB: rssPeak / 2 ** 20,
  };
}
