import { describe, expect, it } from 'vitest';
import { WAYS } from '../../src/shm/bucket-table.js';
import {
  abandonCall,
  abandonStale,
  attachInflightTable,
  CallState,
  createInflightTable,
  failCall,
  finishCall,
  inflightCounters,
  leadOrWait,
  readOutcome,
  type Found,
  type InflightTable,
} from '../../src/shm/inflight-table.js';

const found = (): Found => ({ role: 'none', entry: -1, seq: 0 });
function look(table: InflightTable, key: number, lane: number, now = 0): Found {
  const f = found();
  leadOrWait(table, key, 0, lane, now, now + 30, f);
  return f;
}

describe('shared in-flight table', () => {
  it("lets other threads wait on a call, hands them its answer, and frees the entry after the last reads it", () => {
    const table = createInflightTable(16, 64);
    const other = attachInflightTable(table.buffer);
    const lead = look(table, 5, 0);
    expect(lead.role).toBe('lead');
    const a = look(other, 5, 1);
    const b = look(other, 5, 1);
    expect([a.role, b.role]).toEqual(['wait', 'wait']);
    // The leader's own thread never waits on itself: it batches locally.
    expect(look(table, 5, 0).role).toBe('lead');
    finishCall(table, lead.entry, 5, 0, Buffer.from('answer'));
    expect(inflightCounters(table)).toEqual({ joins: 2, bytes: 6 });
    expect(readOutcome(other, a.entry, 5)).toMatchObject({ state: CallState.Done });
    expect(readOutcome(other, b.entry, 5).answer!.toString()).toBe('answer');
    expect(inflightCounters(table).bytes).toBe(0);
  });

  it('tells waiters to call on their own for an answer too large or not shared, and passes a failure on', () => {
    const table = createInflightTable(16, 4);
    const lead = look(table, 1, 0);
    const w = look(table, 1, 1);
    finishCall(table, lead.entry, 1, 0, Buffer.from('too large'));
    expect(readOutcome(table, w.entry, 1).state).toBe(CallState.Fallback);
    const lead2 = look(table, 2, 0);
    const w2 = look(table, 2, 1);
    failCall(table, lead2.entry, 2, 0, 7);
    expect(readOutcome(table, w2.entry, 2)).toMatchObject({ state: CallState.Failed, code: 7 });
    const lead3 = look(table, 3, 0);
    const w3 = look(table, 3, 1);
    abandonCall(table, lead3.entry, 3, 0);
    expect(readOutcome(table, w3.entry, 3).state).toBe(CallState.Fallback);
  });

  it("abandons the calls of a thread that died, and calls past their deadline", () => {
    const table = createInflightTable(16, 64);
    const dead = look(table, 8, 2);
    const waiting = look(table, 8, 1);
    const stuck = look(table, 9, 0, 0);
    expect(abandonStale(table, 2, 10)).toBe(1);
    expect(readOutcome(table, waiting.entry, 8).state).toBe(CallState.Fallback);
    expect(abandonStale(table, -1, 30)).toBe(1);
    expect(look(table, 9, 1, 30).role).toBe('lead');
    expect(dead.entry).not.toBe(stuck.entry);
  });

  it('answers none when every entry of the bucket leads a call: the read calls on its own', () => {
    const table = createInflightTable(WAYS, 64);
    for (let key = 0; key < WAYS; key++) expect(look(table, key, 0).role).toBe('lead');
    expect(look(table, 100, 0).role).toBe('none');
  });
});
