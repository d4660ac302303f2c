import { describe, expect, it } from 'vitest';
import { HISTORY_WINDOWS, TenantHistories, WindowTimes } from '../../src/coordinator/tenant-history.js';

/** Tick times: window w ended at 1000 × w. */
function times(last: number): WindowTimes {
  const t = new WindowTimes();
  for (let w = Math.max(1, last - HISTORY_WINDOWS + 1); w <= last; w++) t.record(w, 1000 * w);
  return t;
}

describe('tenant histories', () => {
  it('keeps the last HISTORY_WINDOWS windows of a row, oldest first, null before a first score', () => {
    const histories = new TenantHistories();
    const row = histories.take();
    histories.record(row, 5, null, 1);
    histories.record(row, 6, 60, 2);
    expect(histories.entries(row, 5, 6, times(6))).toEqual([
      { window: 5, at: 5000, score: null, k: 1 },
      { window: 6, at: 6000, score: 60, k: 2 },
    ]);
    for (let w = 7; w <= 40; w++) histories.record(row, w, w * 10, w % 5);
    const last = histories.entries(row, 5, 40, times(40));
    expect(last.map((e) => e.window)).toEqual(Array.from({ length: HISTORY_WINDOWS }, (_, i) => 9 + i));
    expect(last.at(-1)).toEqual({ window: 40, at: 40_000, score: 400, k: 0 });
  });

  it('gives a released row to the next tenant, which sees only its own windows', () => {
    const histories = new TenantHistories();
    const gone = histories.take();
    for (let w = 1; w <= 10; w++) histories.record(gone, w, 300, 3);
    const other = histories.take();
    histories.release(gone);
    const next = histories.take();
    expect(next).toBe(gone);
    expect(next).not.toBe(other);
    histories.record(next, 11, null, 1);
    expect(histories.entries(next, 11, 11, times(11))).toEqual([{ window: 11, at: 11_000, score: null, k: 1 }]);
  });

  it('keeps every row its own as rows are added past the first array', () => {
    const histories = new TenantHistories();
    const rows = Array.from({ length: 3000 }, () => histories.take());
    expect(new Set(rows).size).toBe(3000);
    rows.forEach((row, i) => histories.record(row, 7, i, 1 + (i % 5)));
    const at7 = times(7);
    expect(rows.map((row) => histories.entries(row, 7, 7, at7))).toEqual(rows.map((_, i) => [{ window: 7, at: 7000, score: i, k: 1 + (i % 5) }]));
  });
});
