import { describe, expect, it } from 'vitest';
import {
  ACTIVE_CHECK_DEFAULTS,
  ActiveHealth,
  firstCheckDelay,
  nextCheckDelay,
  PROBE_STALL_MS,
  probeVerdict,
  stalledCheckDelay,
  type ActiveCheckPolicy,
} from '../../src/resilience/health-check.js';

/** The largest value Math.random can return. */
const ALMOST_ONE = 1 - Number.EPSILON / 2;
const always = (x: number) => () => x;

/**
 * Feeds `steps` to a fresh ActiveHealth — S a successful check, F a failed one, D markDown — and
 * returns its state after each: H healthy, U unhealthy.
 */
function run(steps: string, policy: ActiveCheckPolicy = ACTIVE_CHECK_DEFAULTS): string {
  const health = new ActiveHealth(policy);
  let states = '';
  for (const step of steps) {
    if (step === 'D') health.markDown();
    else health.record(step === 'S');
    states += health.healthy ? 'H' : 'U';
  }
  return states;
}

describe('check scheduling', () => {
  it('defaults to a 10 s interval, up to 3 s of jitter, down after 3 failures, up after 2 successes', () => {
    expect(ACTIVE_CHECK_DEFAULTS).toEqual({ intervalMs: 10_000, jitterMs: 3_000, unhealthyThreshold: 3, healthyThreshold: 2 });
  });

  it.each([
    { random: 0, delay: 0 },
    { random: 0.25, delay: 2_500 },
    { random: 0.5, delay: 5_000 },
    { random: ALMOST_ONE, delay: 9_999 },
  ])('spreads first checks over [0, interval): random $random gives $delay ms', ({ random, delay }) => {
    expect(firstCheckDelay(ACTIVE_CHECK_DEFAULTS, always(random))).toBe(delay);
  });

  it.each([
    { random: 0, delay: 10_000 },
    { random: 0.5, delay: 11_500 },
    { random: ALMOST_ONE, delay: 13_000 },
  ])('adds jitter in [0, jitterMs] to the interval: random $random gives $delay ms', ({ random, delay }) => {
    expect(nextCheckDelay(ACTIVE_CHECK_DEFAULTS, always(random))).toBe(delay);
  });

  it('uses the policy it is given, and no jitter means the bare interval', () => {
    const policy = { ...ACTIVE_CHECK_DEFAULTS, intervalMs: 2_000, jitterMs: 0 };
    expect(nextCheckDelay(policy, always(ALMOST_ONE))).toBe(2_000);
    expect(firstCheckDelay(policy, always(ALMOST_ONE))).toBe(1_999);
  });

  it('stays within bounds for any random value', () => {
    let seed = 1;
    const lcg = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    for (let i = 0; i < 1_000; i++) {
      const first = firstCheckDelay(ACTIVE_CHECK_DEFAULTS, lcg);
      const next = nextCheckDelay(ACTIVE_CHECK_DEFAULTS, lcg);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(first).toBeLessThan(10_000);
      expect(next).toBeGreaterThanOrEqual(10_000);
      expect(next).toBeLessThanOrEqual(13_000);
    }
  });
});

describe('active health', () => {
  it('starts healthy, before any check', () => {
    expect(new ActiveHealth().healthy).toBe(true);
  });

  it.each([
    { rule: 'the 3rd consecutive failure flips it', steps: 'FFF', states: 'HHU' },
    { rule: 'a success between failures resets the streak', steps: 'FFSFF', states: 'HHHHH' },
    { rule: '...so it takes 3 failures again', steps: 'FFSFFF', states: 'HHHHHU' },
    { rule: 'one success does not restore it', steps: 'FFFS', states: 'HHUU' },
    { rule: 'the 2nd consecutive success restores it', steps: 'FFFSS', states: 'HHUUH' },
    { rule: 'a failure between successes resets the streak', steps: 'FFFSFS', states: 'HHUUUU' },
    { rule: '...so it takes 2 successes again', steps: 'FFFSFSS', states: 'HHUUUUH' },
    { rule: 'markDown flips it at once', steps: 'D', states: 'U' },
    { rule: 'after markDown it takes healthyThreshold successes', steps: 'DSS', states: 'UUH' },
    { rule: 'markDown drops successes already counted', steps: 'FFFSDS', states: 'HHUUUU' },
    { rule: 'failures counted before markDown do not count toward recovery', steps: 'FFDSS', states: 'HHUUH' },
  ])('$rule: $steps gives $states', ({ steps, states }) => {
    expect(run(steps)).toBe(states);
  });

  it.each([
    { policy: { unhealthyThreshold: 1, healthyThreshold: 1 }, steps: 'FSFS', states: 'UHUH' },
    { policy: { unhealthyThreshold: 5, healthyThreshold: 3 }, steps: 'FFFFFSSS', states: 'HHHHUUUH' },
  ])('follows configured thresholds $policy', ({ policy, steps, states }) => {
    expect(run(steps, { ...ACTIVE_CHECK_DEFAULTS, ...policy })).toBe(states);
  });
});

describe('probe verdict', () => {
  it('passes what passed, however late, and fails a failure that came back on time', () => {
    expect(probeVerdict(true, 60_000, 2_000, false)).toBe('pass');
    expect(probeVerdict(false, 3, 2_000, false)).toBe('fail');
    expect(probeVerdict(false, 2_000 + PROBE_STALL_MS, 2_000, false)).toBe('fail');
  });

  it('asks for one more check when a failure came back more than PROBE_STALL_MS past its deadline', () => {
    expect(probeVerdict(false, 2_000 + PROBE_STALL_MS + 1, 2_000, false)).toBe('retry');
    expect(probeVerdict(false, 30_000, 2_000, false)).toBe('retry');
  });

  it('counts the second late failure in a row', () => {
    expect(probeVerdict(false, 30_000, 2_000, true)).toBe('fail');
    expect(probeVerdict(true, 30_000, 2_000, true)).toBe('pass');
  });

  it('repeats a stalled check within 250 ms, spread so that the nodes of one stall are not checked in one instant', () => {
    expect(stalledCheckDelay(always(0))).toBe(0);
    expect(stalledCheckDelay(always(0.5))).toBe(125);
    expect(stalledCheckDelay(always(ALMOST_ONE))).toBe(249);
  });
});
