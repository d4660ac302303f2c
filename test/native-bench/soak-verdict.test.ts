import { describe, expect, it } from 'vitest';
import { edgeRises, edgesMoved, judge, type Minute, type SoakOutcome } from '../../native-bench/lib/soak-verdict.js';

/** RSS after the calibration and after each of 30 minutes, MiB, from four 30-minute soaks on one VM. */
const recordedSoaks = {
  '317b4ff': [126.6, 139.2, 152.6, 164.9, 151.6, 133.5, 142, 134.8, 144.6, 156.0, 169.2, 155.4, 155.1, 164.3, 161.2, 161.6, 161.7, 171.1, 161.7, 161.8, 166.3, 160.8, 161.1, 160.9, 170.7, 163.5, 164.0, 146.6, 141.0, 147.8, 140.2],
  '317b4ff again': [125.6, 138.3, 149.5, 161.1, 154.1, 154.4, 138.5, 146.0, 140.3, 134.6, 142.9, 151.8, 163.6, 158.9, 159.1, 159.4, 164.5, 157.8, 158.0, 158.2, 164.6, 161.8, 162.5, 140.0, 148.8, 142.8, 150.6, 143.5, 152.6, 161.1, 170.0],
  fe48184: [126.8, 141.9, 157.4, 150.8, 151.1, 139.7, 150.2, 142.8, 135.1, 146.0, 157.2, 158.3, 158.5, 159.5, 170.0, 164.5, 138.9, 147.0, 139.7, 149.5, 141.1, 153.1, 165.2, 157.9, 157.9, 162.0, 161.0, 160.5, 160.7, 170.3, 161.8],
  'fe48184 again': [127.2, 141.8, 156.0, 150.5, 151.4, 136.7, 146.7, 139.6, 130.9, 141.9, 153.7, 167.9, 159.7, 159.5, 165.7, 158.6, 158.7, 163.1, 161.3, 162.0, 161.5, 171.5, 164.2, 139.7, 147.8, 139.8, 149.9, 142.8, 153.5, 165.7, 160.9],
};

const minute = (index: number, rssMiB: number, errors = 0): Minute => ({
  minute: index,
  rssMiB,
  slowNodeRequests: 600,
  fastNodeRequests: 900_000,
  requests: 900_000,
  answered: 900_000 - errors,
  seconds: 60,
  rps: 15_000,
  p50Ms: 0.5,
  p99Ms: 1.7,
  errors,
  errorKinds: '',
  cpuUsPerRequest: 31,
  systemUsPerRequest: 12,
  rssPeakMiB: rssMiB,
});

/** readings[0] is the RSS after the calibration, readings[m] after minute m. */
function outcome(readings: readonly number[], planned = readings.length - 1): SoakOutcome {
  return {
    planned,
    rssAfterCalibrationMiB: readings[0]!,
    calibrationErrors: 0,
    minutes: readings.slice(1).map((rss, i) => minute(i + 1, rss)),
    stoppedBy: null,
  };
}

/** Adds `perMinute` MiB for every minute after the warm-up's 3. */
const climbing = (readings: readonly number[], perMinute: number): number[] => readings.map((rss, m) => rss + Math.max(0, m - 3) * perMinute);

describe('soak verdict', () => {
  it('passes four recorded soaks whose RSS stayed in one sawtooth band, the line of one of them past its tolerance', () => {
    for (const [build, readings] of Object.entries(recordedSoaks)) {
      const { problems, trend } = judge(outcome(readings));
      // Neither check alone may flag a run without a leak but the line, on the phase it ends on.
      expect({ build, problems, edgesMoved: edgesMoved(trend) }).toEqual({ build, problems: [], edgesMoved: false });
    }
    // The run whose last minutes fell on the sawtooth's high part: the line alone failed it.
    const { trend } = judge(outcome(recordedSoaks.fe48184));
    expect(trend.riseMiB).toBeGreaterThan(trend.toleranceMiB);
    // Means of the 3 lowest and 3 highest of minutes 3–16, then of 17–30.
    expect(trend.firstHalf.lowMiB).toBeCloseTo((135.1 + 138.9 + 139.7) / 3, 5);
    expect(trend.firstHalf.highMiB).toBeCloseTo((170 + 164.5 + 159.5) / 3, 5);
    expect(trend.secondHalf.lowMiB).toBeCloseTo((139.7 + 141.1 + 147.0) / 3, 5);
    expect(trend.secondHalf.highMiB).toBeCloseTo((170.3 + 165.2 + 162.0) / 3, 5);
    expect(edgeRises(trend).lowMiB).toBeCloseTo(4.7, 5);
  });

  it('fails a recorded soak with a steady climb of 0.6 MiB a minute on top, naming the lows and the peaks', () => {
    const verdict = judge(outcome(climbing(recordedSoaks['fe48184 again'], 0.6)));
    expect(verdict.passed).toBe(false);
    expect(verdict.problems).toHaveLength(1);
    expect(verdict.problems[0]).toMatch(/^RSS climbed after warm-up: the least-squares line through minutes 3–30 rises 25\.\d MiB/);
    expect(verdict.problems[0]).toMatch(/the lows moved 16\.0 MiB and the peaks 9\.7 MiB \(allowed: 7\.5\)/);
  });

  it('fails a sawtooth whose peaks stay while what each full GC leaves climbs (a leak under the old-generation floor)', () => {
    // Period 6: ramps from a low that rises 1.5 MiB a minute up to a fixed 170 MiB peak.
    const readings = Array.from({ length: 31 }, (_, m) => {
      const low = 120 + 1.5 * m;
      return low + ((m % 6) / 5) * (170 - low);
    });
    const verdict = judge(outcome(readings));
    const rises = edgeRises(verdict.trend);
    expect(rises.highMiB).toBeLessThan(verdict.trend.edgeToleranceMiB);
    expect(rises.lowMiB).toBeGreaterThan(verdict.trend.edgeToleranceMiB);
    expect(verdict.passed).toBe(false);
  });

  it('judges a 2-minute smoke run on its two readings after the 1-minute warm-up', () => {
    expect(judge(outcome([120, 130, 131])).passed).toBe(true);
    const verdict = judge(outcome([120, 130, 150]));
    expect(verdict.trend).toMatchObject({ fromMinute: 1, toMinute: 2, riseMiB: 20, firstHalf: { lowMiB: 130 }, secondHalf: { lowMiB: 150 } });
    expect(verdict.passed).toBe(false);
  });

  it('fails on errors, on a soak cut short and on no readings to judge, whatever RSS did', () => {
    const withErrors = outcome(recordedSoaks.fe48184);
    const minutes = withErrors.minutes.map((m) => (m.minute === 7 ? minute(7, m.rssMiB, 3) : m));
    expect(judge({ ...withErrors, minutes, calibrationErrors: 2 }).problems).toEqual([
      '2 errors (non-2xx or socket errors) in the calibration',
      '3 errors (non-2xx or socket errors) in minute(s) 7',
    ]);
    const cut = judge({ ...outcome(recordedSoaks.fe48184.slice(0, 3), 30), stoppedBy: 'ringgate exited with code 1' });
    expect(cut.problems).toEqual([
      'the soak stopped after 2 of 30 minutes: ringgate exited with code 1',
      'no RSS readings after the 3-minute warm-up to judge',
    ]);
  });
});
