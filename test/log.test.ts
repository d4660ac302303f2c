import { describe, expect, it } from 'vitest';
import { LogThrottle } from '../src/log.js';

describe('a log throttle', () => {
  it('lets the first line through, then one per interval, each saying how many it stands for', () => {
    const throttle = new LogThrottle(1000);
    expect(throttle.count(5)).toBe(1);
    expect(throttle.count(500)).toBeNull();
    expect(throttle.count(900, 3)).toBeNull();
    // 1 + 3 held back, and this one.
    expect(throttle.count(1005)).toBe(5);
    expect(throttle.count(1500)).toBeNull();
    expect(throttle.count(2100, 2)).toBe(3);
  });
});
