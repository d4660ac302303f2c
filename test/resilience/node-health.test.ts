import { describe, expect, it } from 'vitest';
import { ACTIVE_CHECK_DEFAULTS } from '../../src/resilience/health-check.js';
import { NodeHealth, PASSIVE_DEFAULTS, USABLE_HEALTH, panicMode } from '../../src/resilience/node-health.js';

const w = (requests: number, errors5xx = 0, connectFailures = 0) => ({ requests, errors5xx, connectFailures });
const noChecks = () => new NodeHealth(null);
const withChecks = () => new NodeHealth(ACTIVE_CHECK_DEFAULTS);

describe('node health, passive', () => {
  it('defaults', () => {
    expect(PASSIVE_DEFAULTS).toEqual({
      minRequests: 20,
      errorRateLimit: 0.1,
      penalty: 0.1,
      connectFailuresDown: 5,
      smoothing: 0.5,
      downWithoutChecksMs: 10_000,
      retryAfterMs: 30_000,
      errorRateZ: 3,
      pendingMs: 10_000,
      maxOutMs: 300_000,
    });
    expect(USABLE_HEALTH).toBe(0.3);
  });

  it('starts at 1, healthy', () => {
    for (const node of [noChecks(), withChecks()]) {
      expect(node.score(0)).toBe(1);
      expect(node.reason(0)).toBe('healthy');
    }
  });

  it.each([
    { rule: '5xx and connection failures both count against success', windows: [w(20, 1, 1)], score: 0.95 },
    { rule: 'a new window weighs a half', windows: [w(20, 0, 10), w(20)], score: 0.875 },
    { rule: 'a 5xx rate exactly at the limit is no penalty', windows: [w(40, 4)], score: 0.95 },
    { rule: 'windows under minRequests leave the score alone', windows: [w(20, 0, 20), w(19)], score: 0.5 },
    { rule: 'a 5xx rate over the limit, past the noise of the window, multiplies by the penalty', windows: [w(20, 7)], score: 0.0825 },
    { rule: 'a 5xx rate over the limit by less than the noise of a small window is no penalty (3 of 20: a 2% node, once in ~75 windows)', windows: [w(20, 3)], score: 0.925 },
    { rule: '...while a large window tells', windows: [w(1000, 150)], score: 0.0925 },
    { rule: 'windows under minRequests add up until they make it', windows: [w(10, 10), w(10, 10)], score: 0.05 },
    { rule: 'a window under minRequests neither sets the penalty...', windows: [w(19, 19)], score: 1 },
    { rule: '...nor clears it', windows: [w(20, 7), w(19)], score: 0.0825 },
    { rule: 'a full window at the limit clears it', windows: [w(20, 7), w(20, 2)], score: 0.8625 },
  ])('$rule', ({ windows, score }) => {
    const node = noChecks();
    windows.forEach((window, i) => node.recordWindow(window, i * 1_000));
    expect(node.score(windows.length * 1_000)).toBeCloseTo(score, 12);
  });

  it('uses the configured smoothing and penalty', () => {
    const node = new NodeHealth(null, { ...PASSIVE_DEFAULTS, smoothing: 0.25, penalty: 0.5 });
    node.recordWindow(w(20, 10), 0);
    expect(node.score(0)).toBeCloseTo((1 - 0.25 * 0.5) * 0.5, 12);
  });

  it('says why: 5xx-rate while penalized, low-success when the ratio alone is under USABLE_HEALTH', () => {
    const penalized = noChecks();
    penalized.recordWindow(w(20, 7), 0);
    expect(penalized.reason(1)).toBe('5xx-rate');
    const failing = noChecks();
    failing.recordWindow(w(20, 0, 20), 0);
    expect(failing.reason(1)).toBe('healthy');
    failing.recordWindow(w(20, 0, 20), 1);
    expect(failing.score(2)).toBe(0.25);
    expect(failing.reason(2)).toBe('low-success');
  });

  it('tries a node out because of its traffic again after retryAfterMs, with a clean slate', () => {
    const node = noChecks();
    node.recordWindow(w(20, 7), 0);
    expect(node.score(29_999)).toBeCloseTo(0.0825, 12);
    expect(node.score(30_000)).toBe(1);
    expect(node.reason(30_000)).toBe('retrying');
    // Judged afresh: from success 1, not from the 0.925 it had.
    node.recordWindow(w(20, 20), 30_000);
    expect(node.score(30_001)).toBeCloseTo(0.05, 12);
    // Out again at its first judged window: it waits twice as long before the next try.
    expect(node.score(89_999)).toBeCloseTo(0.05, 12);
    expect(node.score(90_000)).toBe(1);
    node.recordWindow(w(20), 90_000);
    expect(node.score(90_001)).toBe(1);
    expect(node.reason(90_001)).toBe('healthy');
    // Good again for a whole retry wait: its next time out is 30 s again.
    node.recordWindow(w(20, 20), 120_000);
    expect(node.score(149_999)).toBeLessThan(USABLE_HEALTH);
    expect(node.score(150_000)).toBe(1);
  });

  /** Steps `node` a second at a time while it is out; how long that was. */
  const outFor = (node: NodeHealth, from: number): number => {
    let now = from;
    while (node.score(now) < USABLE_HEALTH && now - from < 1_000_000) now += 1_000;
    return now - from;
  };

  it('backs off a node taken out again and again for its connection failures (low success, what passive health judges beside breakers)', () => {
    const node = noChecks();
    let now = 0;
    const outs: number[] = [];
    for (let ejection = 0; ejection < 5; ejection++) {
      // 80% of its requests refused, never 5 in a row: no down mark, only the share of good answers.
      while (node.score(now) >= USABLE_HEALTH) node.recordWindow(w(20, 0, 16), (now += 1_000));
      const out = outFor(node, now);
      outs.push(out);
      now += out;
    }
    expect(outs).toEqual([30_000, 60_000, 120_000, 240_000, 300_000]);
  });

  it('forgets the ejections of a node back in for a whole retry wait, though its traffic was too thin to judge', () => {
    const node = noChecks();
    let now = 0;
    for (let ejection = 0; ejection < 4; ejection++) {
      node.recordWindow(w(100, 100), now);
      now += outFor(node, now);
    }
    // An hour of one good request a second: never 20 in 10 s, never judged.
    for (let s = 0; s < 3_600; s++) node.recordWindow(w(1), (now += 1_000));
    node.recordWindow(w(100, 100), (now += 1_000));
    expect(outFor(node, now)).toBe(30_000);
  });

  it('keeps a node out as long as bad windows keep coming (traffic in panic mode)', () => {
    const node = noChecks();
    node.recordWindow(w(20, 20), 0);
    node.recordWindow(w(20, 20), 20_000);
    expect(node.score(30_000)).toBeLessThan(USABLE_HEALTH);
    expect(node.score(50_000)).toBe(1);
  });

  it('clamps its score to [0, 1]', () => {
    const overPenalty = new NodeHealth(null, { ...PASSIVE_DEFAULTS, penalty: 3 });
    overPenalty.recordWindow(w(20, 20), 0);
    expect(overPenalty.score(0)).toBe(1);
    const brokenCounters = noChecks();
    brokenCounters.recordWindow(w(20, 0, -20), 0);
    expect(brokenCounters.score(0)).toBe(1);
  });
});

describe('node health, connection failures', () => {
  it('marks a node without checks down at the 5th consecutive failure, then tries it again after downWithoutChecksMs', () => {
    const node = noChecks();
    node.connectFailureStreak(4, 1_000);
    expect(node.score(1_000)).toBe(1);
    node.connectFailureStreak(5, 1_000);
    expect(node.score(1_000)).toBe(0);
    expect(node.reason(10_999)).toBe('connect-failures');
    expect(node.score(10_999)).toBe(0);
    expect(node.score(11_000)).toBe(1);
    expect(node.reason(11_000)).toBe('healthy');
  });

  it('does not extend the mark for a streak that has not grown, but does for one that has', () => {
    const node = noChecks();
    node.connectFailureStreak(5, 0);
    node.connectFailureStreak(5, 5_000);
    expect(node.score(10_000)).toBe(1);
    node.connectFailureStreak(6, 10_500);
    // A second mark in a row, with no answer between: twice as long.
    expect(node.score(30_499)).toBe(0);
    expect(node.score(30_500)).toBe(1);
    // A broken streak that builds up again counts anew.
    node.connectFailureStreak(0, 21_000);
    node.connectFailureStreak(5, 22_000);
    expect(node.score(22_000)).toBe(0);
  });

  it('without checks, doubles each down mark in a row up to maxOutMs, and starts short again once the node answered', () => {
    const node = noChecks();
    let now = 0;
    const lengths: number[] = [];
    for (let mark = 1; mark <= 8; mark++) {
      node.recordWindow(w(5, 0, 5), now); // tried again: refused
      node.connectFailureStreak(5 * mark, now);
      const from = now;
      while (node.score(now) === 0) now += 1_000;
      lengths.push(now - from);
    }
    expect(lengths).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    node.recordWindow(w(3), now); // it answers
    node.connectFailureStreak(0, now);
    node.connectFailureStreak(5, now);
    expect(node.score(now + 9_999)).toBe(0);
    expect(node.score(now + 10_000)).toBe(1);
  });

  it('with checks, keeps a node down with no expiry until healthyThreshold checks pass', () => {
    const node = withChecks();
    node.connectFailureStreak(5, 0);
    expect(node.score(1e9)).toBe(0);
    expect(node.reason(1e9)).toBe('connect-failures');
    node.recordCheck(true, 1e9);
    expect(node.score(1e9)).toBe(0);
    node.recordCheck(true, 1e9);
    expect(node.score(1e9)).toBe(1);
    expect(node.reason(1e9)).toBe('healthy');
  });

  it('with checks, blames later failed checks on the checks once it has recovered', () => {
    const node = withChecks();
    node.connectFailureStreak(5, 0);
    for (const ok of [true, true, false, false, false]) node.recordCheck(ok, 0);
    expect(node.score(0)).toBe(0);
    expect(node.reason(0)).toBe('check-failing');
  });

  it('with checks, a stale streak read again does not undo the successes counted since', () => {
    const node = withChecks();
    node.connectFailureStreak(5, 0);
    node.recordCheck(true, 10_000);
    node.connectFailureStreak(5, 10_500);
    node.recordCheck(true, 20_000);
    expect(node.score(20_000)).toBe(1);
  });
});

describe('node health, checks and pushed scores', () => {
  it('is 0 while checks fail, then back to its passive score', () => {
    const node = withChecks();
    node.recordWindow(w(20, 0, 2), 0);
    for (const ok of [false, false, false]) node.recordCheck(ok, 0);
    expect(node.score(0)).toBe(0);
    expect(node.reason(0)).toBe('check-failing');
    for (const ok of [true, true]) node.recordCheck(ok, 0);
    expect(node.score(0)).toBeCloseTo(0.95, 12);
  });

  it('ignores check results when its cluster has no active checks', () => {
    const node = noChecks();
    for (let i = 0; i < 10; i++) node.recordCheck(false, i);
    expect(node.score(10)).toBe(1);
  });

  it('serves a pushed score until its TTL over the passive score, never over failing checks or a connection-failure mark', () => {
    const node = withChecks();
    node.connectFailureStreak(5, 0);
    node.push(0.8, 1_000, 5_000);
    // The gateway cannot reach it: a controller saying it is fine does not put it back.
    expect(node.score(5_999)).toBe(0);
    expect(node.reason(5_999)).toBe('connect-failures');
    for (const ok of [true, true]) node.recordCheck(ok, 2_000);
    expect(node.score(5_999)).toBe(0.8);
    expect(node.reason(5_999)).toBe('pushed');
    const unchecked = noChecks();
    unchecked.connectFailureStreak(5, 0);
    unchecked.push(1, 0, 60_000);
    expect(unchecked.score(1_000)).toBe(0);
    const healthy = noChecks();
    healthy.push(0.1, 0, 1_000);
    expect(healthy.score(999)).toBe(0.1);
    expect(healthy.score(1_000)).toBe(1);
  });

  it.each([
    { pushed: 1.7, score: 1 },
    { pushed: -0.2, score: 0 },
    { pushed: Number.NaN, score: 0 },
    { pushed: 0.3, score: 0.3 },
  ])('clamps a pushed $pushed to $score', ({ pushed, score }) => {
    const node = noChecks();
    node.push(pushed, 0, 1_000);
    expect(node.score(0)).toBe(score);
  });
});

describe('panic mode', () => {
  const usable = (n: number, of: number) => Array.from({ length: of }, (_, i) => (i < n ? 1 : 0));
  it.each([
    { rule: 'an empty cluster does not panic', scores: [], threshold: 0.5, panic: false },
    { rule: 'exactly at the threshold is no panic', scores: usable(2, 4), threshold: 0.5, panic: false },
    { rule: 'under the threshold panics', scores: usable(1, 4), threshold: 0.5, panic: true },
    { rule: 'exactly 3 of 10 at 0.3 is no panic', scores: usable(3, 10), threshold: 0.3, panic: false },
    { rule: '2 of 10 at 0.3 panics', scores: usable(2, 10), threshold: 0.3, panic: true },
    { rule: 'exactly 7 of 25 at 0.28 is no panic, whatever the rounding', scores: usable(7, 25), threshold: 0.28, panic: false },
    { rule: 'a score of exactly USABLE_HEALTH counts as usable', scores: [0.3, 0.29, 0.3, 0.29], threshold: 0.5, panic: false },
    { rule: 'a score just under it does not', scores: [0.3, 0.29, 0.29, 0.29], threshold: 0.5, panic: true },
    { rule: 'a threshold of 0 never panics', scores: [0, 0], threshold: 0, panic: false },
    { rule: 'a threshold of 1 panics on one unusable node', scores: [1, 0], threshold: 1, panic: true },
  ])('$rule', ({ scores, threshold, panic }) => {
    expect(panicMode(scores, threshold)).toBe(panic);
  });
});
