import type { Measured } from '../../native-bench/lib/measure.js';

/** A bench round of 5 s at `rps`, for the report's and the A/B's tables: only RPS and CPU per request (and the kernel's part) vary. */
export const measuredRound = (rps: number, cpuUsPerRequest: number | null, systemUsPerRequest: number | null = null): Measured => ({
  requests: rps * 5,
  answered: rps * 5,
  seconds: 5,
  rps,
  p50Ms: 1,
  p99Ms: 2,
  errors: 0,
  errorKinds: '',
  cpuUsPerRequest,
  systemUsPerRequest,
  rssPeakMiB: 80,
});
