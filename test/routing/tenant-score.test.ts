import { describe, expect, it } from 'vitest';
import { nextScore, SCORE_SMOOTHING, windowScore, windowWeight, type ScoreOptions, type TenantWindow } from '../../src/routing/tenant-score.js';

const byTime: ScoreOptions = { errorPenaltyMs: 1000, decayMode: 'time', decayRequests: 100 };
const byCount: ScoreOptions = { errorPenaltyMs: 1000, decayMode: 'count', decayRequests: 100 };
const idle = { requests: 0, errors5xx: 0, latencySumMs: 0 };

/** One window as the tracker takes it: the window's own score, then the smoothing. */
function step(previous: number | null, window: TenantWindow, options: ScoreOptions): number {
  return nextScore(previous, windowScore(window, options.errorPenaltyMs), window.requests, options);
}

describe('tenant score', () => {
  it('is average latency plus the 5xx rate times the penalty', () => {
    expect(windowScore({ requests: 10, errors5xx: 0, latencySumMs: 500 }, 1000)).toBe(50);
    expect(windowScore({ requests: 10, errors5xx: 2, latencySumMs: 500 }, 1000)).toBe(250);
    expect(windowScore({ requests: 4, errors5xx: 4, latencySumMs: 4 }, 300)).toBe(301);
  });

  it('smooths windows with an exponential moving average of weight 1/2, starting from the first window', () => {
    expect(SCORE_SMOOTHING).toBe(0.5);
    expect(step(null, { requests: 2, errors5xx: 0, latencySumMs: 400 }, byTime)).toBe(200);
    expect(step(100, { requests: 2, errors5xx: 0, latencySumMs: 400 }, byTime)).toBe(150);
    let score: number | null = null;
    for (let i = 0; i < 60; i++) score = step(score, { requests: 1, errors5xx: 0, latencySumMs: 80 }, byTime);
    expect(score).toBeCloseTo(80, 6);
  });

  it('decaying by time, counts an idle window as 0, so an idle tenant cools down', () => {
    expect(windowScore(idle, 1000)).toBe(0);
    expect(step(100, idle, byTime)).toBe(50);
    // However few requests a window has, it weighs a half.
    expect(step(100, { requests: 1, errors5xx: 0, latencySumMs: 300 }, byTime)).toBe(200);
  });

  it('decaying by count, weighs a window by its requests and leaves an idle tenant alone', () => {
    expect(step(100, idle, byCount)).toBe(100);
    expect(windowWeight(100, byCount)).toBeCloseTo(0.5, 12);
    expect(windowWeight(200, byCount)).toBeCloseTo(0.75, 12);
    expect(step(100, { requests: 100, errors5xx: 0, latencySumMs: 30_000 }, byCount)).toBeCloseTo(200, 9);
    // 100 requests move a score as far in one window as in 100 windows of one request each.
    let score = 100;
    for (let i = 0; i < 100; i++) score = step(score, { requests: 1, errors5xx: 0, latencySumMs: 300 }, byCount);
    expect(score).toBeCloseTo(200, 9);
  });
});
