import { describe, expect, it } from 'vitest';
import { nextScore, windowScore } from '../../src/routing/tenant-score.js';

describe('tenant score', () => {
  it('is average latency plus the 5xx rate times the penalty', () => {
    expect(windowScore({ requests: 10, errors5xx: 0, latencySumMs: 500 }, 1000)).toBe(50);
    expect(windowScore({ requests: 10, errors5xx: 2, latencySumMs: 500 }, 1000)).toBe(250);
    expect(windowScore({ requests: 4, errors5xx: 4, latencySumMs: 4 }, 300)).toBe(301);
  });

  it('counts an idle window as 0, so an idle tenant cools down', () => {
    expect(windowScore({ requests: 0, errors5xx: 0, latencySumMs: 0 }, 1000)).toBe(0);
    const options = { errorPenaltyMs: 1000, smoothing: 0.5 };
    expect(nextScore(100, { requests: 0, errors5xx: 0, latencySumMs: 0 }, options)).toBe(50);
  });

  it('smooths windows with an exponential moving average, starting from the first window', () => {
    const options = { errorPenaltyMs: 1000, smoothing: 0.5 };
    expect(nextScore(null, { requests: 2, errors5xx: 0, latencySumMs: 400 }, options)).toBe(200);
    expect(nextScore(100, { requests: 2, errors5xx: 0, latencySumMs: 400 }, options)).toBe(150);
    let score: number | null = null;
    for (let i = 0; i < 50; i++) score = nextScore(score, { requests: 1, errors5xx: 0, latencySumMs: 80 }, { errorPenaltyMs: 0, smoothing: 0.3 });
    expect(score).toBeCloseTo(80, 6);
  });
});
