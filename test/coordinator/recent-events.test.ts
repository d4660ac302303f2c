import { describe, expect, it } from 'vitest';
import { RECENT_EVENTS, RecentEvents } from '../../src/coordinator/recent-events.js';

describe('recent events', () => {
  it('counts every event and keeps the last RECENT_EVENTS, oldest first', () => {
    const events = new RecentEvents<number>();
    expect(events.recent()).toEqual([]);
    events.record(0);
    events.record(1);
    expect(events.recent()).toEqual([0, 1]);
    for (let i = 2; i < RECENT_EVENTS + 5; i++) events.record(i);
    expect(events.count).toBe(RECENT_EVENTS + 5);
    expect(events.recent()).toEqual(Array.from({ length: RECENT_EVENTS }, (_, i) => i + 5));
  });
});
