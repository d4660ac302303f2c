import type { Measured } from './measure.js';
import { describeTolerance, EDGE_READINGS, edgeRises, edgesMoved, lineRose, warmupMinutes, type Minute, type SoakOutcome, type Verdict } from './soak-verdict.js';

/** What the report's header says about the run, besides the minutes. */
export interface SoakSetup {
  readonly date: string;
  readonly machine: string;
  readonly versions: string;
  readonly build: string;
  readonly mix: string;
  readonly slowNode: string;
  readonly calibration: Measured & { readonly warmupSeconds: number; readonly connections: number };
  readonly targetRps: number;
  readonly connections: number;
  readonly paceMs: number;
}

const fixed = (value: number | null, digits: number): string => (value === null || Number.isNaN(value) ? '–' : value.toFixed(digits));

const sum = (minutes: readonly Minute[], pick: (m: Minute) => number): number => minutes.reduce((total, m) => total + pick(m), 0);

function minuteTable(minutes: readonly Minute[], warmup: number): string[] {
  return [
    '| minute | RPS | p50 ms | p99 ms | errors | RSS MiB | CPU µs/req |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...minutes.map(
      (m) =>
        `| ${m.minute}${m.minute <= warmup ? ' (warm-up)' : ''} | ${m.rps.toFixed(0)} | ${m.p50Ms.toFixed(2)} | ${m.p99Ms.toFixed(2)} | ` +
        `${m.errors} | ${m.rssMiB.toFixed(1)} | ${fixed(m.cpuUsPerRequest, 1)} |`,
    ),
  ];
}

/** The slow node's part of all upstream requests, over the whole soak and its lowest and highest minute. */
function slowNodeShare(minutes: readonly Minute[]): string {
  const share = (slow: number, fast: number): number => (100 * slow) / Math.max(1, slow + fast);
  const perMinute = minutes.map((m) => share(m.slowNodeRequests, m.fastNodeRequests));
  const overall = share(sum(minutes, (m) => m.slowNodeRequests), sum(minutes, (m) => m.fastNodeRequests));
  return `${overall.toFixed(2)}% (per minute ${Math.min(...perMinute).toFixed(2)}–${Math.max(...perMinute).toFixed(2)}%)`;
}

export function soakMarkdown(setup: SoakSetup, outcome: SoakOutcome, verdict: Verdict): string {
  const { calibration: cal, date } = setup;
  const { minutes, planned } = outcome;
  const warmup = warmupMinutes(planned);
  const { trend } = verdict;
  const rises = edgeRises(trend);
  return [
    `# native-bench soak, ${date.slice(0, 10)}`,
    '',
    `Machine: ${setup.machine}. Versions: ${setup.versions}. ringgate: ${setup.build}.`,
    '',
    `**Settings.** ${planned} minutes of one mix: ${setup.mix}. ringgate \`node dist/main.js\`, 1 thread, a cluster of 3 nodes ` +
      `(two ports of the nginx upstream and one slow node: ${setup.slowNode}), every feature configured and none triggered ` +
      `(health checks every 1 s and a zone, breakers, retries, cache header, multiplex, idempotency keys, ` +
      `an in-flight limit and a rate limit far above the load), access log off. Pinned: ringgate on CPU 0; upstream, slow node and wrk on CPU 1. ` +
      `Traffic on 127.0.0.1 only.`,
    '',
    `**Calibration.** wrk -t1 -c${cal.connections}, ${cal.warmupSeconds} s warm-up then ${cal.seconds.toFixed(0)} s saturated: ` +
      `${cal.rps.toFixed(0)} RPS, p50 ${cal.p50Ms.toFixed(2)} ms, p99 ${cal.p99Ms.toFixed(2)} ms, ${cal.errors} errors, ` +
      `${fixed(cal.cpuUsPerRequest, 1)} CPU µs/req, RSS ${outcome.rssAfterCalibrationMiB.toFixed(1)} MiB after it. ` +
      `Half load: ${setup.targetRps.toFixed(0)} RPS, wrk -t1 -c${setup.connections}, every connection waiting a random ` +
      `0–${2 * setup.paceMs} ms between requests (connections = rate × ${setup.paceMs} ms, as the main bench's paced runs; ` +
      `the time a request takes comes on top, so the rate reached is somewhat below the target).`,
    '',
    `**Every minute** one wrk run of 60 s (consecutive runs); RSS of ringgate's process group at the end of the minute; ` +
      `CPU µs/req of the group over the minute's requests. ` +
      (warmup === 0 ? 'No warm-up minute in a run this short.' : `Warm-up, not judged: minute${warmup === 1 ? ' 1' : `s 1–${warmup}`}.`),
    '',
    ...minuteTable(minutes, warmup),
    '',
    `${sum(minutes, (m) => m.requests).toLocaleString('en')} requests in all. The slow node's share of upstream requests ` +
      `(health checks included): ${minutes.length > 0 ? slowNodeShare(minutes) : '–'}.`,
    '',
    `## Verdict: ${verdict.passed ? 'passed' : 'FAILED'}`,
    '',
    `RSS after warm-up: the least-squares line through minutes ${trend.fromMinute}–${trend.toMinute} ` +
      `(minute 0: right after the calibration) starts at ${fixed(trend.startMiB, 1)} MiB and moves ` +
      `${fixed(trend.slopeMiBPerMinute, 2)} MiB/min, ${fixed(trend.riseMiB, 1)} MiB over the span. From the first half of ` +
      `those minutes to the second, the lows (each the mean of a half's ${EDGE_READINGS} lowest readings) went ` +
      `${fixed(trend.firstHalf.lowMiB, 1)} → ${fixed(trend.secondHalf.lowMiB, 1)} MiB (${fixed(rises.lowMiB, 1)} MiB) and ` +
      `the peaks (its ${EDGE_READINGS} highest) ${fixed(trend.firstHalf.highMiB, 1)} → ${fixed(trend.secondHalf.highMiB, 1)} MiB ` +
      `(${fixed(rises.highMiB, 1)} MiB). Allowed: ${describeTolerance()} (${fixed(trend.toleranceMiB, 1)} and ` +
      `${fixed(trend.edgeToleranceMiB, 1)} MiB).${lineRose(trend) && !edgesMoved(trend) ? ' The line rose past its tolerance, and neither edge confirmed it.' : ''} ` +
      `Errors: ${outcome.calibrationErrors} in the calibration, ` +
      `${sum(minutes, (m) => m.errors)} in the soak; allowed: none.`,
    '',
    ...(verdict.passed ? [] : verdict.problems.map((p) => `- ${p}`)),
    '',
  ].join('\n');
}
