import type { Measured } from './measure.js';

/** One minute of the soak: wrk's 60 s run, and readings of ringgate and the nodes around it. */
export interface Minute extends Measured {
  readonly minute: number;
  /** ringgate's process group at the end of the minute, in MiB. */
  readonly rssMiB: number;
  /** Requests the slow node received in the minute (its health checks included). */
  readonly slowNodeRequests: number;
  /** Requests the two nginx nodes received in the minute (their health checks included). */
  readonly fastNodeRequests: number;
}

/**
 * Minutes that are warm-up and not judged: 3 of a full run (the switch from the calibration's 64
 * saturating connections to the paced ones, pools and V8's heap settling at the new rate), at most
 * half of a shorter one, so that even SOAK_MINUTES=2 has a minute to judge.
 */
export const warmupMinutes = (total: number): number => Math.min(3, Math.floor(total / 2));

/** RSS growth allowed over the judged minutes: ≤ 16 MiB and ≤ 10% of RSS at the end of warm-up. */
const MAX_RISE_MIB = 16;
const MAX_RISE_SHARE = 0.1;

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return covariance / variance;
}

/** The lowest and highest RSS of one half of the judged minutes, MiB: each the mean of its EDGE_READINGS readings. */
export interface RssEdges {
  readonly lowMiB: number;
  readonly highMiB: number;
}

/**
 * How RSS moved after warm-up: the least-squares line through the readings from the end of warm-up
 * (minute W; minute 0 is the reading after the calibration) to the last minute, and its rise over
 * that span. A line rather than last minus first: a single reading lands anywhere on V8's
 * garbage-collection sawtooth, a line through 28 of them does not; a run of 2 minutes has 2 points
 * and its line is their difference.
 *
 * The line still moves with where the run ends on a 10–15-minute sawtooth (two soaks of one build:
 * 9.4 and 16.3 MiB, in the same band). So it is checked against the edges of each half of the
 * judged readings: a climb lifts the sawtooth's lows (what a full GC leaves) or its peaks, while a
 * phase that ends the run on the high part moves neither by much. An edge is the mean of a half's
 * EDGE_READINGS lowest or highest readings: a single one still follows the phase (the lowest
 * moved up to 8.8 MiB between the halves of four soaks without a leak, the mean of three 5.8).
 */
export interface RssTrend {
  readonly fromMinute: number;
  readonly toMinute: number;
  /** RSS at the end of warm-up, MiB. */
  readonly startMiB: number;
  readonly slopeMiBPerMinute: number;
  /** slope × (toMinute − fromMinute). */
  readonly riseMiB: number;
  readonly toleranceMiB: number;
  /** Edges of the judged readings' first and second half (the middle one of an odd count in neither). */
  readonly firstHalf: RssEdges;
  readonly secondHalf: RssEdges;
  /** What either edge may move between the halves, whose middles are about half the span apart: half the line's tolerance. */
  readonly edgeToleranceMiB: number;
}

export interface Verdict {
  readonly passed: boolean;
  readonly trend: RssTrend;
  /** Why it failed, one sentence each; empty when it passed. */
  readonly problems: readonly string[];
}

export interface SoakOutcome {
  /** Minutes asked for (SOAK_MINUTES). */
  readonly planned: number;
  /** ringgate's RSS after the calibration, MiB: minute 0 of the trend. */
  readonly rssAfterCalibrationMiB: number;
  readonly calibrationErrors: number;
  readonly minutes: readonly Minute[];
  /** What stopped the soak before its planned minutes (ringgate exited, wrk failed), or null. */
  readonly stoppedBy: string | null;
}

function rssTrend(outcome: SoakOutcome): RssTrend {
  const warmup = warmupMinutes(outcome.planned);
  const readings: Array<[number, number]> = [[0, outcome.rssAfterCalibrationMiB], ...outcome.minutes.map((m): [number, number] => [m.minute, m.rssMiB])];
  const judged = readings.filter(([minute]) => minute >= warmup);
  const startMiB = judged[0]?.[1] ?? Number.NaN;
  const toMinute = judged.at(-1)?.[0] ?? warmup;
  const slopeMiBPerMinute = judged.length >= 2 ? slope(judged) : Number.NaN;
  const half = Math.floor(judged.length / 2);
  const toleranceMiB = Math.min(MAX_RISE_MIB, MAX_RISE_SHARE * startMiB);
  return {
    fromMinute: warmup,
    toMinute,
    startMiB,
    slopeMiBPerMinute,
    riseMiB: slopeMiBPerMinute * (toMinute - warmup),
    toleranceMiB,
    firstHalf: edges(judged.slice(0, half)),
    secondHalf: edges(judged.slice(judged.length - half)),
    edgeToleranceMiB: toleranceMiB / 2,
  };
}

/** Readings averaged into each edge of a half (all of them in a half that has fewer). */
export const EDGE_READINGS = 3;

function edges(readings: ReadonlyArray<readonly [number, number]>): RssEdges {
  if (readings.length === 0) return { lowMiB: Number.NaN, highMiB: Number.NaN };
  const sorted = readings.map(([, rss]) => rss).sort((a, b) => a - b);
  const count = Math.min(EDGE_READINGS, sorted.length);
  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / count;
  return { lowMiB: mean(sorted.slice(0, count)), highMiB: mean(sorted.slice(-count)) };
}

/** How far the lows and the peaks moved from the first half of the judged readings to the second. */
export function edgeRises(trend: RssTrend): { readonly lowMiB: number; readonly highMiB: number } {
  return { lowMiB: trend.secondHalf.lowMiB - trend.firstHalf.lowMiB, highMiB: trend.secondHalf.highMiB - trend.firstHalf.highMiB };
}

/** The lows or the peaks moved past their tolerance from the first half to the second. */
export function edgesMoved(trend: RssTrend): boolean {
  const rises = edgeRises(trend);
  return Math.max(rises.lowMiB, rises.highMiB) > trend.edgeToleranceMiB;
}

/** The least-squares line rose past its tolerance. */
export const lineRose = (trend: RssTrend): boolean => trend.riseMiB > trend.toleranceMiB;

/** The line rose past its tolerance, and the lows or the peaks confirm it. */
const climbed = (trend: RssTrend): boolean => lineRose(trend) && edgesMoved(trend);

/**
 * Fails on any error, on a soak that did not run its minutes, and on RSS that climbs after
 * warm-up: the line rises past its tolerance and the halves' lows or peaks confirm it.
 */
export function judge(outcome: SoakOutcome): Verdict {
  const trend = rssTrend(outcome);
  const problems: string[] = [];
  if (outcome.stoppedBy !== null) problems.push(`the soak stopped after ${outcome.minutes.length} of ${outcome.planned} minutes: ${outcome.stoppedBy}`);
  if (outcome.calibrationErrors > 0) problems.push(`${outcome.calibrationErrors} errors (non-2xx or socket errors) in the calibration`);
  const withErrors = outcome.minutes.filter((m) => m.errors > 0);
  if (withErrors.length > 0) {
    const total = withErrors.reduce((sum, m) => sum + m.errors, 0);
    problems.push(`${total} errors (non-2xx or socket errors) in minute(s) ${withErrors.map((m) => m.minute).join(', ')}`);
  }
  if (Number.isNaN(trend.slopeMiBPerMinute)) {
    problems.push(`no RSS readings after the ${trend.fromMinute}-minute warm-up to judge`);
  } else if (climbed(trend)) {
    const rises = edgeRises(trend);
    problems.push(
      `RSS climbed after warm-up: the least-squares line through minutes ${trend.fromMinute}–${trend.toMinute} rises ` +
        `${trend.riseMiB.toFixed(1)} MiB (${trend.slopeMiBPerMinute.toFixed(2)} MiB/min) from ${trend.startMiB.toFixed(1)} MiB, ` +
        `above the ${trend.toleranceMiB.toFixed(1)} MiB allowed (≤ ${MAX_RISE_MIB} MiB and ≤ ${MAX_RISE_SHARE * 100}%), ` +
        `and from the first half of those minutes to the second the lows moved ${rises.lowMiB.toFixed(1)} MiB and the peaks ` +
        `${rises.highMiB.toFixed(1)} MiB (allowed: ${trend.edgeToleranceMiB.toFixed(1)})`,
    );
  }
  return { passed: problems.length === 0, trend, problems };
}

export const describeTolerance = (): string =>
  `a line rising ≤ ${MAX_RISE_MIB} MiB and ≤ ${MAX_RISE_SHARE * 100}% of the RSS at the end of warm-up, ` +
  `or else lows and peaks each moving ≤ half that from the first half of the judged minutes to the second`;
