import { describe, expect, it } from 'vitest';
import type { PoissonResult } from '../../native-bench/lib/poisson.js';
import { markdownReport, type Row } from '../../native-bench/lib/report.js';
import type { LoadResult } from '../../native-bench/lib/wrk.js';
import { measuredRound as run } from '../helpers/measured-round.js';

const paced = (p99Ms: number, errors = 0): LoadResult => ({ requests: 1000, answered: 1000 - errors, seconds: 5, rps: 200, p50Ms: 0.1, p99Ms, errors, errorKinds: errors > 0 ? `non-2xx ${errors}` : '' });
const poisson = (p99Ms: number, errors = 0): PoissonResult => ({ ...paced(p99Ms, errors), waited: 0, lateP99Ms: 0.05 });

const info = { date: '2026-12-07', machine: 'm', versions: 'v', settings: 's', scenarios: new Map([['get-1k', 'GET']]), builds: null };

function table(rows: Row[]): string[] {
  return markdownReport(info, rows).split('\n');
}

describe('native-bench report', () => {
  it('gives RPS against direct and nginx as the median of per-round ratios, as the README says', () => {
    // Per round, nginx over direct: 0.9, 0.6, 0.5 (median 0.6); the ratio of the medians would be 40/80 = 0.5.
    const rows: Row[] = [
      { layout: 'pinned', scenario: 'get-1k', candidate: 'direct', rounds: [run(100, null), run(50, null), run(80, null)] },
      { layout: 'pinned', scenario: 'get-1k', candidate: 'nginx', rounds: [run(90, 10), run(30, 10), run(40, 10)] },
    ];
    const nginx = table(rows).find((line) => line.startsWith('| nginx |'))!;
    expect(nginx.split('|').map((cell) => cell.trim())[4]).toBe('0.60×');
    const direct = table(rows).find((line) => line.startsWith('| direct |'))!;
    // Direct against nginx, round by round: 1.11, 1.67, 2.00.
    expect(direct.split('|').map((cell) => cell.trim())[5]).toBe('1.67×');
  });

  it("shows the kernel's part of a proxy's CPU per request as the median of its rounds, and none for direct", () => {
    const rows: Row[] = [
      { layout: 'pinned', scenario: 'get-1k', candidate: 'direct', rounds: [run(100, null), run(100, null), run(100, null)] },
      { layout: 'pinned', scenario: 'get-1k', candidate: 'nginx', rounds: [run(90, 10, 7.5), run(90, 11, 9), run(90, 12, 8)] },
    ];
    const lines = table(rows);
    const header = lines.find((line) => line.startsWith('| candidate |'))!.split('|').map((cell) => cell.trim());
    const column = header.indexOf('of it, kernel');
    expect(header[column - 1]).toBe('proxy CPU µs/req');
    const cells = (name: string): string[] => lines.find((line) => line.startsWith(`| ${name} |`))!.split('|').map((cell) => cell.trim());
    expect(cells('nginx')[column - 1]).toBe('11.0');
    expect(cells('nginx')[column]).toBe('8.0');
    expect(cells('direct')[column]).toBe('–');
  });

  it('gives the p99 a proxy adds as the median of per-round differences, and shows the paced runs\' errors', () => {
    const rows: Row[] = [
      { layout: 'pinned', scenario: 'get-1k', candidate: 'direct', rounds: [run(100, null)] },
      {
        layout: 'pinned',
        scenario: 'get-1k',
        candidate: 'nginx',
        rounds: [run(90, 10)],
        // Per round: 0.5, 0.8, 1.7 added (median 0.8); the medians' difference would be 2 − 0.3 = 1.7.
        paced: {
          targetRps: 45,
          rateRule: 'half its max',
          proxy: [paced(3), paced(1, 5), paced(2)],
          direct: [paced(2.5), paced(0.2), paced(0.3)],
          poisson: [poisson(3), poisson(1), poisson(2, 7)],
          poissonDirect: [poisson(2.5), poisson(0.2), poisson(0.3)],
        },
      },
    ];
    const lines = table(rows).filter((line) => line.startsWith('| nginx | 45 |'));
    expect(lines).toHaveLength(2);
    const [wrk, arrivals] = lines.map((line) => line.split('|').map((cell) => cell.trim()));
    expect(wrk![6]).toBe('0.80');
    expect(wrk![7]).toBe('5 / 0');
    expect(arrivals![6]).toBe('0.80');
    expect(arrivals![7]).toBe('7 / 0');
  });
});
