import { describe, expect, it } from 'vitest';
import { reconnectDelay } from '../../src/redis/connection.js';
import { RedisOutage, type RedisUse } from '../../src/redis/outage.js';
import type { Logger } from '../../src/log.js';
import { untilWindowEnds } from '../../src/acceptor/phases/redis-limit.js';

function recordingLog(): { log: Logger; lines: { fields: Record<string, unknown>; msg: string }[] } {
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  const log = { warn: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) } as unknown as Logger;
  return { log, lines };
}

describe('RedisOutage', () => {
  it('counts every failure and logs at most one line per 10 s, saying how many failed since the last', () => {
    let now = 1_000_000;
    const counted: RedisUse[] = [];
    const { log, lines } = recordingLog();
    const outage = new RedisOutage(log, (use) => counted.push(use), () => now);
    for (let i = 0; i < 50; i++) outage.failed('rate_limit', new Error('down'));
    expect(counted).toHaveLength(50);
    expect(lines).toHaveLength(1);
    now += 9_999;
    outage.failed('idempotency', new Error('down'));
    expect(lines).toHaveLength(1);
    now += 1;
    outage.failed('rate_limit', new Error('down'));
    expect(lines).toHaveLength(2);
    expect(lines[1]!.fields.failures).toBe(51);
    outage.connectionError(new Error('ECONNREFUSED'));
    outage.connectionError(new Error('ECONNREFUSED'));
    expect(lines).toHaveLength(3);
  });
});

describe('reconnectDelay', () => {
  it('doubles from 50 ms up to 2 s, jittered below that ceiling', () => {
    expect([1, 2, 3, 6, 7, 50].map((n) => reconnectDelay(n, () => 1))).toEqual([50, 100, 200, 1600, 2000, 2000]);
    expect(reconnectDelay(4, () => 0.5)).toBe(200);
    expect(reconnectDelay(1, () => 0)).toBe(1);
  });
});

describe('untilWindowEnds', () => {
  it('counts to the end of the window a refusal named, or of the window now when that one is over', () => {
    expect(untilWindowEnds(10_000, 9_400, 1000)).toBe(600);
    // A refusal that outlasted its window: the reset is the current window's, never negative.
    expect(untilWindowEnds(10_000, 10_300, 1000)).toBe(700);
    expect(untilWindowEnds(10_000, 12_000, 1000)).toBe(1000);
  });
});
