import type { Measured } from './measure.js';
import { median } from './stats.js';

/** The candidate running the baseline's build with `threads` threads, beside `ringgate-<threads>t`. */
export const baselineName = (threads: number): string => `ringgate-base-${threads}t`;
export const isBaselineName = (candidate: string): boolean => candidate.startsWith('ringgate-base-');

interface Rounds {
  readonly candidate: string;
  readonly rounds: readonly Measured[];
}

/** One line of the table: a round, or the medians over rounds. */
interface Cells {
  readonly cpuWas: number | null;
  readonly cpuNow: number | null;
  readonly cpuRatio: number | null;
  readonly rpsWas: number | null;
  readonly rpsNow: number | null;
  readonly rpsRatio: number | null;
}

const over = (a: number | null, b: number | null): number | null => (a === null || b === null || !(b > 0) ? null : a / b);

function cellsOf(was: Measured, now: Measured): Cells {
  const [cpuWas, cpuNow] = [was.cpuUsPerRequest, now.cpuUsPerRequest];
  return { cpuWas, cpuNow, cpuRatio: over(cpuNow, cpuWas), rpsWas: was.rps, rpsNow: now.rps, rpsRatio: over(now.rps, was.rps) };
}

function medians(rounds: readonly Cells[]): Cells {
  const of = (pick: (c: Cells) => number | null): number | null => {
    const known = rounds.map(pick).filter((v): v is number => v !== null);
    return known.length > 0 ? median(known) : null;
  };
  return {
    cpuWas: of((c) => c.cpuWas),
    cpuNow: of((c) => c.cpuNow),
    cpuRatio: of((c) => c.cpuRatio),
    rpsWas: of((c) => c.rpsWas),
    rpsNow: of((c) => c.rpsNow),
    rpsRatio: of((c) => c.rpsRatio),
  };
}

const fixed = (v: number | null, digits: number): string => (v === null ? '–' : v.toFixed(digits));

function line(label: string, c: Cells): string {
  return (
    `| ${label} | ${fixed(c.cpuWas, 1)} → ${fixed(c.cpuNow, 1)} | ${fixed(c.cpuRatio, 3)}× | ` +
    `${fixed(c.rpsWas, 0)} → ${fixed(c.rpsNow, 0)} | ${fixed(c.rpsRatio, 3)}× |`
  );
}

/** What a candidate is compared with, and how the comparison is named; null: nothing. */
function comparedWith(candidate: string, baselineShort: string | null): { name: string; label: string } | null {
  const current = /^ringgate-(\d+)t$/.exec(candidate)?.[1];
  if (current !== undefined && baselineShort !== null) return { name: baselineName(Number(current)), label: baselineShort };
  const traced = /^ringgate-trace(\d+)-(\d+)t$/.exec(candidate);
  if (traced !== null) return { name: `ringgate-${traced[2]}t`, label: 'without tracing' };
  const logged = /^ringgate-log-(\d+)t$/.exec(candidate)?.[1];
  if (logged !== undefined) return { name: `ringgate-${logged}t`, label: 'without the access log' };
  const redis = /^ringgate-redis-(\d+)t$/.exec(candidate)?.[1];
  return redis === undefined ? null : { name: `ringgate-${redis}t`, label: 'rate limit counted locally' };
}

/**
 * Each ringgate-Nt against ringgate-base-Nt round by round, and each ringgate-redis-Nt,
 * ringgate-trace<P>-Nt and ringgate-log-Nt against ringgate-Nt: the one compared with runs just before it in every
 * round (candidates.ts orders them so), so a round's ratio carries little of the machine's drift.
 */
export function abTables(rows: readonly Rounds[], baselineShort: string | null): string {
  const tables: string[] = [];
  for (const current of rows) {
    const against = comparedWith(current.candidate, baselineShort);
    const base = against === null ? undefined : rows.find((row) => row.candidate === against.name);
    if (base === undefined) continue;
    const rounds = current.rounds.slice(0, base.rounds.length).map((now, i) => cellsOf(base.rounds[i]!, now));
    tables.push(
      [
        `${current.candidate} against ${base.candidate} (${against!.label}), round by round (a CPU ratio below 1× means cheaper than the baseline):`,
        '',
        '| round | proxy CPU µs/req, base → now | CPU ratio | RPS, base → now | RPS ratio |',
        '|---|---:|---:|---:|---:|',
        ...rounds.map((cells, i) => line(String(i + 1), cells)),
        line('median', medians(rounds)),
      ].join('\n'),
    );
  }
  return tables.map((table) => `\n\n${table}`).join('');
}
