import { abTables, isBaselineName } from './ab.js';
import type { Measured } from './measure.js';
import { median, spreadPercent } from './stats.js';
import type { PoissonResult } from './poisson.js';
import type { LoadResult } from './wrk.js';

export interface PacedResult {
  readonly targetRps: number;
  /** How targetRps was chosen (options.ts, pacedRateRule): the same for every row of a run. */
  readonly rateRule: string;
  /** One run per round, proxy and direct alternating. */
  readonly proxy: LoadResult[];
  readonly direct: LoadResult[];
  /** The same rate with Poisson arrivals (native-bench/poisson-load.c), proxy and direct. */
  readonly poisson: PoissonResult[];
  readonly poissonDirect: PoissonResult[];
}

export interface Row {
  readonly layout: string;
  readonly scenario: string;
  readonly candidate: string;
  readonly rounds: Measured[];
  autocannon?: Measured;
  paced?: PacedResult;
}

export interface Summary {
  readonly rps: number;
  readonly spreadPercent: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly cpuUsPerRequest: number | null;
  /** The kernel's part of it: the median of the rounds' own, as the total's. */
  readonly systemUsPerRequest: number | null;
  readonly rssPeakMiB: number | null;
  /** Peak RSS of the first and of the last round: memory that climbs round after round shows here. */
  readonly rssFirstMiB: number | null;
  readonly rssLastMiB: number | null;
}

export function summarize(row: Row): Summary {
  const cpu = row.rounds.map((r) => r.cpuUsPerRequest).filter((v): v is number => v !== null);
  const system = row.rounds.map((r) => r.systemUsPerRequest).filter((v): v is number => v !== null);
  const rss = row.rounds.map((r) => r.rssPeakMiB).filter((v): v is number => v !== null);
  return {
    rps: median(row.rounds.map((r) => r.rps)),
    spreadPercent: spreadPercent(row.rounds.map((r) => r.rps)),
    p50Ms: median(row.rounds.map((r) => r.p50Ms)),
    p99Ms: median(row.rounds.map((r) => r.p99Ms)),
    errors: row.rounds.reduce((sum, r) => sum + r.errors, 0),
    cpuUsPerRequest: cpu.length > 0 ? median(cpu) : null,
    systemUsPerRequest: system.length > 0 ? median(system) : null,
    rssPeakMiB: rss.length > 0 ? Math.max(...rss) : null,
    rssFirstMiB: rss[0] ?? null,
    rssLastMiB: rss.at(-1) ?? null,
  };
}

/**
 * The median over rounds of a's CPU per request over b's in the same round: interleaved rounds
 * put the two close in time, so each ratio carries little of the machine's drift.
 */
export function cpuRatioByRound(a: readonly Measured[], b: readonly Measured[] | undefined): number | null {
  if (b === undefined) return null;
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i]!.cpuUsPerRequest, b[i]!.cpuUsPerRequest];
    if (x !== null && y !== null && y > 0) ratios.push(x / y);
  }
  return ratios.length > 0 ? median(ratios) : null;
}

/**
 * The median over rounds of a's RPS over b's in the same round, as cpuRatioByRound: a ratio of the
 * two medians would pair a round of one with another round of the other, drift and all.
 */
export function rpsRatioByRound(a: readonly Measured[], b: readonly Measured[] | undefined): number | null {
  if (b === undefined) return null;
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (b[i]!.rps > 0) ratios.push(a[i]!.rps / b[i]!.rps);
  }
  return ratios.length > 0 ? median(ratios) : null;
}

/** The median over rounds of the proxy's p99 less direct's in the same round (direct runs right after it). */
export function addedP99ByRound(proxy: readonly LoadResult[], direct: readonly LoadResult[]): number {
  const added: number[] = [];
  for (let i = 0; i < Math.min(proxy.length, direct.length); i++) added.push(proxy[i]!.p99Ms - direct[i]!.p99Ms);
  return median(added);
}

/** The bare uWS + undici proxy: the floor of ringgate's architecture. */
const FLOOR = 'uws-undici-minimal';

const num = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits));

function scenarioTable(rows: readonly Row[], baselineShort: string | null): string {
  const summaries = new Map(rows.map((row) => [row.candidate, summarize(row)]));
  const roundsOf = (name: string): readonly Measured[] | undefined => rows.find((row) => row.candidate === name)?.rounds;
  const hasFloor = roundsOf(FLOOR) !== undefined;
  const lines = [
    `| candidate | RPS (median) | spread | vs direct | vs nginx | p50 ms | p99 ms | errors | proxy CPU µs/req | of it, kernel | CPU vs nginx${hasFloor ? ' | CPU vs floor' : ''} | peak RSS MiB, first → last round |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:${hasFloor ? '|---:' : ''}|---:|`,
  ];
  for (const row of rows) {
    const s = summaries.get(row.candidate)!;
    const label = baselineShort !== null && isBaselineName(row.candidate) ? `${row.candidate} (${baselineShort})` : row.candidate;
    const times = (v: number | null): string => (v === null ? '–' : `${v.toFixed(2)}×`);
    const vsNginx = times(cpuRatioByRound(row.rounds, roundsOf('nginx')));
    const rpsVsDirect = times(rpsRatioByRound(row.rounds, roundsOf('direct')));
    const rpsVsNginx = times(rpsRatioByRound(row.rounds, roundsOf('nginx')));
    const vsFloor = hasFloor ? ` ${times(cpuRatioByRound(row.rounds, roundsOf(FLOOR)))} |` : '';
    lines.push(
      `| ${label} | ${num(s.rps)} | ${num(s.spreadPercent, 1)}% | ${rpsVsDirect} | ${rpsVsNginx} | ` +
        `${num(s.p50Ms, 2)} | ${num(s.p99Ms, 2)} | ${s.errors} | ${num(s.cpuUsPerRequest, 1)} | ${num(s.systemUsPerRequest, 1)} | ${vsNginx} |${vsFloor} ${num(s.rssFirstMiB)} → ${num(s.rssLastMiB)} |`,
    );
  }
  return lines.join('\n');
}

function autocannonTable(rows: readonly Row[]): string {
  const withRuns = rows.filter((row) => row.autocannon !== undefined);
  if (withRuns.length === 0) return '';
  const lines = ['| candidate | RPS | p99 ms (1 ms resolution) | errors | proxy CPU µs/req |', '|---|---:|---:|---:|---:|'];
  for (const { candidate, autocannon: a } of withRuns) {
    lines.push(`| ${candidate} | ${num(a!.rps)} | ${num(a!.p99Ms)} | ${a!.errors} | ${num(a!.cpuUsPerRequest, 1)} |`);
  }
  return `\n\nautocannon (same shape, ${withRuns.length} candidates, one run each):\n\n${lines.join('\n')}`;
}

function pacedTable(rows: readonly Row[]): string {
  const paced = rows.filter((row) => row.paced !== undefined && row.paced.proxy.length > 0);
  if (paced.length === 0) return '';
  const rule = paced[0]!.paced!.rateRule;
  const header = (extra: string): string[] => [
    `| candidate | rate (${rule}) | proxy RPS | proxy p99 ms (each round) | direct p99 ms at that rate | p99 added ms (median of rounds) | errors, proxy / direct |${extra}`,
    `|---|---:|---:|---:|---:|---:|---:|${extra === '' ? '' : '---:|'.repeat(extra.split('|').length - 1)}`,
  ];
  const p99s = (runs: readonly LoadResult[]): string => runs.map((r) => r.p99Ms.toFixed(2)).join(', ');
  const line = (candidate: string, p: PacedResult, proxy: readonly LoadResult[], direct: readonly LoadResult[]): string => {
    const added = addedP99ByRound(proxy, direct);
    // A run whose answers were errors can be fast: its p99 says nothing without them.
    const errors = (runs: readonly LoadResult[]): number => runs.reduce((sum, r) => sum + r.errors, 0);
    return `| ${candidate} | ${num(p.targetRps)} | ${num(median(proxy.map((r) => r.rps)))} | ${p99s(proxy)} | ${p99s(direct)} | ${num(added, 2)} | ${errors(proxy)} / ${errors(direct)} |`;
  };
  const wrk = [...header(''), ...paced.map(({ candidate, paced: p }) => line(candidate, p!, p!.proxy, p!.direct))];
  const poisson = [
    ...header(' arrivals that waited for a connection, proxy (each round) | generator lateness p99 ms, proxy (each round) |'),
    ...paced
      .filter(({ paced: p }) => p!.poisson.length > 0)
      .map(
        ({ candidate, paced: p }) =>
          `${line(candidate, p!, p!.poisson, p!.poissonDirect)} ${p!.poisson.map((r) => r.waited).join(', ')} | ${p!.poisson.map((r) => num(r.lateP99Ms, 2)).join(', ')} |`,
      ),
  ];
  return (
    `\n\nLatency below saturation (wrk, each connection paced at random 0–20 ms gaps; warm-up at the same pacing; direct measured right after at the same pacing):\n\n${wrk.join('\n')}` +
    (poisson.length > 2
      ? '\n\nThe same rates with Poisson arrivals (native-bench/poisson-load.c: exponential gaps timed in nanoseconds, where wrk releases ' +
        "each millisecond's requests together; latency from each request's scheduled arrival; warm-up at the same rate; direct right after):" +
        `\n\n${poisson.join('\n')}`
      : '')
  );
}

export interface RunInfo {
  readonly date: string;
  readonly machine: string;
  readonly versions: string;
  readonly settings: string;
  readonly scenarios: ReadonlyMap<string, string>;
  /** With a baseline: the build each of ringgate-* and ringgate-base-* ran. */
  readonly builds: { readonly current: string; readonly baseline: string; readonly baselineShort: string } | null;
}

export function markdownReport(info: RunInfo, rows: readonly Row[]): string {
  const { builds } = info;
  const header = [`Machine: ${info.machine}`, `Versions: ${info.versions}`, `Run: ${info.settings}`];
  if (builds !== null) header.push(`Builds: ringgate-* = ${builds.current}; ringgate-base-* = ${builds.baseline} (${builds.baselineShort})`);
  const parts = [`# native-bench results, ${info.date}`, '', header.join('  \n')];
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = `${row.layout}|${row.scenario}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const [key, group] of groups) {
    const [layout, scenario] = key.split('|') as [string, string];
    parts.push(
      '',
      `## ${scenario}, ${layout} (${info.scenarios.get(scenario) ?? ''})`,
      '',
      scenarioTable(group, builds?.baselineShort ?? null) +
        abTables(group, builds?.baselineShort ?? null) +
        autocannonTable(group) +
        pacedTable(group),
    );
  }
  return parts.join('\n') + '\n';
}
