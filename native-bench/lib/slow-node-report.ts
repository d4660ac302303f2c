/** Tables of `npm run bench:slow-node`: per gateway, the measured runs and the warm-ups before them. */
import type { Measured } from './measure.js';
import { median } from './stats.js';
import type { LoadResult } from './wrk.js';

/** Upstream requests during a load, counted at the nodes: retries and probes included. */
export interface Attempts {
  /** Requests the slow node received. */
  readonly slowAttempts: number;
  /** Of those, the ones it failed on purpose (503 or reset). */
  readonly slowFailed: number;
  /** Requests both healthy nodes received (one nginx, so one count). */
  readonly fastAttempts: number;
}

export interface Run {
  readonly candidate: string;
  readonly round: number;
  /** The first seconds this gateway meets the slow node; null with BENCH_WARMUP_SECONDS=0. */
  readonly warmup: (LoadResult & Attempts) | null;
  readonly measured: Measured & Attempts;
}

/** The slow node's share of all upstream requests, in percent (a third when nothing is detected). */
export const slowShare = (a: Attempts): number => (a.slowAttempts / Math.max(1, a.slowAttempts + a.fastAttempts)) * 100;
/** Upstream requests per request wrk completed: above 1 when a gateway retries. */
const attemptsPerRequest = (r: LoadResult & Attempts): number => (r.slowAttempts + r.fastAttempts) / Math.max(1, r.requests);
const errorPercent = (r: LoadResult): number => (r.errors / Math.max(1, r.requests)) * 100;

const each = (values: readonly number[], digits: number): string => values.map((v) => v.toFixed(digits)).join(', ');
const med = (values: readonly number[], digits: number): string => median(values).toFixed(digits);

function measuredTable(runs: readonly Run[], candidates: readonly string[]): string {
  const lines = [
    '| gateway | RPS (median) | p50 ms (median) | p99 ms (each round) | p99 ms (median) | errors (each round) | errors % (median) | ' +
      'slow node share % (each round) | slow node share % (median) | upstream requests per request (median) | proxy CPU µs/req (median) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const candidate of candidates) {
    const rs = runs.filter((r) => r.candidate === candidate).map((r) => r.measured);
    if (rs.length === 0) continue;
    const cpu = rs.map((r) => r.cpuUsPerRequest).filter((v): v is number => v !== null);
    lines.push(
      `| ${candidate} | ${med(rs.map((r) => r.rps), 0)} | ${med(rs.map((r) => r.p50Ms), 2)} | ${each(rs.map((r) => r.p99Ms), 1)} | ` +
        `${med(rs.map((r) => r.p99Ms), 1)} | ${rs.map((r) => r.errors).join(', ')} | ${med(rs.map(errorPercent), 2)} | ` +
        `${each(rs.map(slowShare), 1)} | ${med(rs.map(slowShare), 1)} | ${med(rs.map(attemptsPerRequest), 3)} | ` +
        `${cpu.length > 0 ? med(cpu, 1) : '–'} |`,
    );
  }
  return lines.join('\n');
}

function warmupTable(runs: readonly Run[], candidates: readonly string[]): string | null {
  const lines = [
    '| gateway | RPS (median) | p99 ms (each round) | errors (each round) | slow node share % (each round) | slow node failures (each round) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const candidate of candidates) {
    const ws = runs.filter((r) => r.candidate === candidate).flatMap((r) => (r.warmup === null ? [] : [r.warmup]));
    if (ws.length === 0) continue;
    lines.push(
      `| ${candidate} | ${med(ws.map((w) => w.rps), 0)} | ${each(ws.map((w) => w.p99Ms), 1)} | ${ws.map((w) => w.errors).join(', ')} | ` +
        `${each(ws.map(slowShare), 1)} | ${ws.map((w) => w.slowFailed).join(', ')} |`,
    );
  }
  return lines.length > 2 ? lines.join('\n') : null;
}

export function slowNodeTables(runs: readonly Run[], candidates: readonly string[]): string {
  const warmup = warmupTable(runs, candidates);
  return [
    '### Measured (after the warm-up)',
    '',
    measuredTable(runs, candidates),
    '',
    'Errors: what wrk saw (non-2xx answers and socket errors). Slow node share: its requests over all ' +
      'the nodes received, counted at the nodes (a third when the gateway does nothing about it). ' +
      'Upstream requests per request: above 1 when failed requests are retried on another node.',
    ...(warmup === null
      ? []
      : ['', '### Warm-up (the gateway meets the slow node for the first time)', '', warmup, '', 'Slow node failures: the 503s or resets it gave, whether the gateway retried them or passed them on.']),
  ].join('\n');
}
