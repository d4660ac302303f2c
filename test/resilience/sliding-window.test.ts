import { describe, expect, it } from 'vitest';
import { remaining, rolledCurrent, rolledPrevious, slidingCount, untilOneFits, untilReset, windowOf } from '../../src/resilience/sliding-window.js';

describe('sliding-window counter', () => {
  it('weights the previous window by how much of it the sliding window still covers', () => {
    expect(slidingCount(100, 0, 10_000, 1000)).toBe(100);
    expect(slidingCount(100, 10, 10_250, 1000)).toBe(85);
    expect(slidingCount(100, 10, 10_999, 1000)).toBeCloseTo(10.1, 5);
  });

  it('names windows and the time to the next', () => {
    expect(windowOf(10_999, 1000)).toBe(10);
    expect(windowOf(11_000, 1000)).toBe(11);
    expect(untilReset(10_250, 1000)).toBe(750);
    expect(untilReset(11_000, 1000)).toBe(1000);
  });

  it('rolls the counts as windows pass', () => {
    // From window 5 to 5, 6 and 9.
    expect([rolledPrevious(0, 3, 7), rolledCurrent(0, 7)]).toEqual([3, 7]);
    expect([rolledPrevious(1, 3, 7), rolledCurrent(1, 7)]).toEqual([7, 0]);
    expect([rolledPrevious(4, 3, 7), rolledCurrent(4, 7)]).toEqual([0, 0]);
  });

  it('says how many requests are left, never fewer than none', () => {
    expect(remaining(100, 85)).toBe(15);
    expect(remaining(100, 99.5)).toBe(0);
    expect(remaining(100, 130)).toBe(0);
  });

  it('lets a steady stream through at the limit and no more', () => {
    // 3 requests every 10 ms (300/s) against 100 per second, for 5 s.
    const limit = 100;
    let window = 0;
    let previous = 0;
    let current = 0;
    const allowedPerSecond = new Map<number, number>();
    for (let now = 0; now < 5000; now += 10) {
      for (let i = 0; i < 3; i++) {
        const next = windowOf(now, 1000);
        [previous, current] = [rolledPrevious(next - window, previous, current), rolledCurrent(next - window, current)];
        window = next;
        if (slidingCount(previous, current + 1, now, 1000) <= limit) {
          current++;
          allowedPerSecond.set(window, (allowedPerSecond.get(window) ?? 0) + 1);
        }
      }
    }
    const total = [...allowedPerSecond.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(480);
    expect(total).toBeLessThanOrEqual(510);
  });

  it('says when one more request fits a refused key, as the Redis script does', () => {
    // Room in this window's count: the previous window's share slides down to let one in.
    expect(untilOneFits(10, 10, 5, 500, 1000)).toBe(100);
    // This window full: past its end, once a tenth of it has slid out.
    expect(untilOneFits(10, 0, 10, 100, 1000)).toBe(1000);
  });
});
