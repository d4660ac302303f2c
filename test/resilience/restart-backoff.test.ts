import { describe, expect, it } from 'vitest';
import { nextRestart, RESTART_BACKOFF } from '../../src/resilience/restart-backoff.js';

describe('restart backoff', () => {
  it('restarts a first death after the base delay', () => {
    expect(nextRestart([], 1_000).delayMs).toBe(RESTART_BACKOFF.baseMs);
  });

  it('doubles per recent death and caps at the maximum', () => {
    let deaths: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const next = nextRestart(deaths, 1_000 + i);
      delays.push(next.delayMs);
      deaths = next.deaths;
    }
    expect(delays.slice(0, 5)).toEqual([100, 200, 400, 800, 1600]);
    expect(delays.at(-1)).toBe(RESTART_BACKOFF.maxMs);
  });

  it('forgets deaths older than the window', () => {
    const old = [0, 1, 2, 3];
    expect(nextRestart(old, RESTART_BACKOFF.windowMs + 10).delayMs).toBe(RESTART_BACKOFF.baseMs);
  });
});
