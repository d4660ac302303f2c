import { groupCpuTimes, sampleRss, type Started } from './proc.js';
import type { LoadResult } from './wrk.js';

export interface Measured extends LoadResult {
  /** The proxy's CPU time (all its threads and processes) per request answered 2xx or 3xx; null for direct. */
  readonly cpuUsPerRequest: number | null;
  /**
   * Of it, the kernel's (system time): its syscalls and, without IRQ time accounted apart, the
   * softirqs run in its context (the loopback TCP work its sends do for the other side). The
   * rest is its own code's.
   */
  readonly systemUsPerRequest: number | null;
  /** Peak resident memory of the proxy's process group during the run, in MiB; null for direct. */
  readonly rssPeakMiB: number | null;
}

/** Runs one load while reading the proxy's CPU time and RSS from /proc around it. */
export async function measure(proxy: Started | null, load: () => Promise<LoadResult>): Promise<Measured> {
  if (proxy === null) return { ...(await load()), cpuUsPerRequest: null, systemUsPerRequest: null, rssPeakMiB: null };
  const stopRss = sampleRss(proxy.pgid);
  const cpuBefore = groupCpuTimes(proxy.pgid);
  const result = await load();
  const cpuAfter = groupCpuTimes(proxy.pgid);
  const perRequest = (seconds: number): number | null => (result.answered > 0 ? (seconds * 1e6) / result.answered : null);
  const rssPeak = stopRss();
  return {
    ...result,
    cpuUsPerRequest: perRequest(cpuAfter.total - cpuBefore.total),
    systemUsPerRequest: perRequest(cpuAfter.system - cpuBefore.system),
    rssPeakMiB: rssPeak / 2 ** 20,
  };
}
