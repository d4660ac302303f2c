/** The table of `npm run bench:hot-get`: per gateway, its measured runs, and each against nginx's. */
import type { Measured } from './measure.js';
import { median } from './stats.js';

/** What the backend counted while a measured run went on. */
export interface Upstream {
  /** Requests the backend received on all its nodes: upstream calls, counted where they land. */
  readonly upstreamCalls: number;
  readonly perNode: readonly number[];
  /** Connections that carried those calls and none before: new upstream connections the gateway opened. */
  readonly newConnections: number;
  /** The backend's own CPU (user + system) over the requests wrk completed. */
  readonly backendCpuUsPerRequest: number;
}

export interface HotGetRun {
  readonly candidate: string;
  readonly round: number;
  readonly measured: Measured & Upstream;
}

/** Targets of issue 12 for ringgate with multiplexing, against nginx in the same run. */
export const TARGET_RPS_RATIO = 1.5;
export const TARGET_CALL_REDUCTION_PERCENT = 60;

export const LABELS: Readonly<Record<string, string>> = {
  ringgate: 'ringgate (multiplex on)',
  'ringgate-multiplex-off': 'ringgate (multiplex off)',
};
const label = (candidate: string): string => LABELS[candidate] ?? candidate;

/** Upstream calls per request wrk completed: 1 for a plain proxy, below 1 when requests share calls. */
export const callsPerRequest = (m: Upstream & { requests: number }): number => m.upstreamCalls / Math.max(1, m.requests);

/**
 * Each round's value against nginx's in the same round, then the median: interleaved rounds meet
 * the same phase of the machine, so a ratio within a round drifts less than a ratio of medians.
 */
function againstNginx(runs: readonly HotGetRun[], candidate: string, ratio: (own: HotGetRun, nginx: HotGetRun) => number): number | null {
  const ratios: number[] = [];
  for (const own of runs.filter((r) => r.candidate === candidate)) {
    const nginx = runs.find((r) => r.candidate === 'nginx' && r.round === own.round);
    if (nginx !== undefined) ratios.push(ratio(own, nginx));
  }
  return ratios.length > 0 ? median(ratios) : null;
}

export const rpsRatio = (runs: readonly HotGetRun[], candidate: string): number | null =>
  againstNginx(runs, candidate, (own, nginx) => own.measured.rps / nginx.measured.rps);

/** How many fewer upstream calls per client request than nginx, in percent (negative: more). */
export const callReduction = (runs: readonly HotGetRun[], candidate: string): number | null =>
  againstNginx(runs, candidate, (own, nginx) => (1 - callsPerRequest(own.measured) / callsPerRequest(nginx.measured)) * 100);

const fixed = (v: number | null, digits: number, suffix = ''): string => (v === null || Number.isNaN(v) ? '–' : `${v.toFixed(digits)}${suffix}`);
const med = (values: readonly number[], digits: number): string => fixed(median(values), digits);

export function hotGetTable(runs: readonly HotGetRun[], candidates: readonly string[]): string {
  const lines = [
    '| gateway | RPS (median) | RPS (each round) | RPS ÷ nginx | p50 ms | p99 ms | errors (each round) | ' +
      'upstream calls per request | fewer upstream calls than nginx | new upstream connections | proxy CPU µs/req | backend CPU µs/req |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const candidate of candidates) {
    const rs = runs.filter((r) => r.candidate === candidate).map((r) => r.measured);
    if (rs.length === 0) continue;
    const cpu = rs.map((r) => r.cpuUsPerRequest).filter((v): v is number => v !== null);
    const isNginx = candidate === 'nginx';
    lines.push(
      `| ${label(candidate)} | ${med(rs.map((r) => r.rps), 0)} | ${rs.map((r) => r.rps.toFixed(0)).join(', ')} | ` +
        `${isNginx ? '1' : fixed(rpsRatio(runs, candidate), 2, '×')} | ${med(rs.map((r) => r.p50Ms), 2)} | ${med(rs.map((r) => r.p99Ms), 2)} | ` +
        `${rs.map((r) => r.errors).join(', ')} | ${med(rs.map(callsPerRequest), 3)} | ` +
        `${isNginx ? '–' : fixed(callReduction(runs, candidate), 1, '%')} | ${med(rs.map((r) => r.newConnections), 0)} | ` +
        `${cpu.length > 0 ? med(cpu, 1) : '–'} | ${med(rs.map((r) => r.backendCpuUsPerRequest), 1)} |`,
    );
  }
  return lines.join('\n');
}

/** Whether ringgate with multiplexing met issue 12's targets in this run; null when it did not run. */
export function targetsLine(runs: readonly HotGetRun[]): string | null {
  const ratio = rpsRatio(runs, 'ringgate');
  const reduction = callReduction(runs, 'ringgate');
  if (ratio === null || reduction === null) return null;
  const mark = (met: boolean): string => (met ? 'met' : 'missed');
  return (
    `Targets (issue 12), ringgate with multiplexing against nginx: RPS ${ratio.toFixed(2)}× (target ≥ ${TARGET_RPS_RATIO}×, ` +
    `${mark(ratio >= TARGET_RPS_RATIO)}); upstream calls ${reduction.toFixed(1)}% fewer (target ≥ ${TARGET_CALL_REDUCTION_PERCENT}%, ` +
    `${mark(reduction >= TARGET_CALL_REDUCTION_PERCENT)}).`
  );
}
