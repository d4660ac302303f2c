import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { entryLock, lockBucket, releaseLocksOf, WAYS } from '../../src/shm/bucket-table.js';
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
  seqWord,
  waiters,
  waitersWord,
} from '../../src/shm/inflight-table.js';

const found = (): Found => ({ role: 'none', entry: -1, seq: 0 });
function look(table: InflightTable, key: number, lane: number, now = 0): Found {
  const f = found();
  leadOrWait(table, key, 0, lane, now, now + 30, f);
  return f;
}
const leadOf = (f: Found, key: number, lane: number) => ({ entry: f.entry, keyLo: key, lane, seq: f.seq });
const RECLAIM = 100;
const WINDOW_PASS = new URL('../fixtures/window-pass.mjs', import.meta.url);

describe('shared in-flight table', () => {
  it('lets other threads wait on a call, hands them its answer, and frees the entry after the last reads it', () => {
    const table = createInflightTable(16, 64);
    const other = attachInflightTable(table.buffer, 1);
    const lead = look(table, 5, 0);
    expect(lead.role).toBe('lead');
    const a = look(other, 5, 1);
    const b = look(other, 5, 1);
    expect([a.role, b.role]).toEqual(['wait', 'wait']);
    expect(waiters(table, lead.entry)).toBe(2);
    // Not settled yet: a waiter that gives up reads no outcome, and waits no more.
    expect(readOutcome(other, a.entry, a.seq).state).toBe(CallState.Fallback);
    expect(waiters(table, lead.entry)).toBe(1);
    // The leader's own thread never waits on itself: it batches locally.
    expect(look(table, 5, 0).role).toBe('lead');
    finishCall(table, leadOf(lead, 5, 0), RECLAIM, Buffer.from('answer'));
    expect(inflightCounters(table)).toEqual({ joins: 2, bytes: 6 });
    expect(readOutcome(other, b.entry, b.seq).answer!.toString()).toBe('answer');
  });

  it('hands the answer over as the generation wraps past 2^31', () => {
    const table = createInflightTable(16, 64);
    const lead = look(table, 5, 0);
    table.words[seqWord(table, lead.entry)] = 2 ** 31 - 1;
    const wrapped = { ...lead, seq: 2 ** 31 - 1 };
    const w = look(table, 5, 1);
    finishCall(table, leadOf(wrapped, 5, 0), RECLAIM, Buffer.from('answer'));
    expect(readOutcome(table, w.entry, w.seq).answer?.toString()).toBe('answer');
  });

  it('tells waiters to call on their own for an answer too large or not shared, and passes a failure on', () => {
    const table = createInflightTable(16, 4);
    const lead = look(table, 1, 0);
    const w = look(table, 1, 1);
    finishCall(table, leadOf(lead, 1, 0), RECLAIM, Buffer.from('too large'));
    expect(readOutcome(table, w.entry, w.seq).state).toBe(CallState.Fallback);
    const lead2 = look(table, 2, 0);
    const w2 = look(table, 2, 1);
    // The failed call's key goes to its waiters with the code; one over the slot makes them call on their own.
    failCall(table, leadOf(lead2, 2, 0), RECLAIM, 7, Buffer.from('key'));
    const failed = readOutcome(table, w2.entry, w2.seq);
    expect(failed).toMatchObject({ state: CallState.Failed, code: 7 });
    expect(failed.answer?.toString()).toBe('key');
    const lead4 = look(table, 4, 0);
    const w4 = look(table, 4, 1);
    failCall(table, leadOf(lead4, 4, 0), RECLAIM, 7, Buffer.from('a key too long'));
    expect(readOutcome(table, w4.entry, w4.seq).state).toBe(CallState.Fallback);
    const lead3 = look(table, 3, 0);
    const w3 = look(table, 3, 1);
    abandonCall(table, leadOf(lead3, 3, 0), RECLAIM);
    expect(readOutcome(table, w3.entry, w3.seq).state).toBe(CallState.Fallback);
  });

  it('wakes a leader watching the waiter count when a waiter gives up on a lead still running, as one whose client left does', async () => {
    const table = createInflightTable(16, 64);
    const lead = look(table, 9, 0);
    const w = look(table, 9, 1);
    const word = waitersWord(table, lead.entry);
    const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } }).waitAsync;
    const woken = waitAsync(table.words, word, Atomics.load(table.words, word), 5_000);
    expect(woken.async).toBe(true);
    // Out of time: the lead has not settled, so the waiter counts itself out and calls on its own.
    expect(readOutcome(table, w.entry, w.seq).state).toBe(CallState.Fallback);
    expect(waiters(table, lead.entry)).toBe(0);
    expect(await woken.value).toBe('ok');
  });

  it("abandons the calls of a thread that died, and calls past their deadline; a stale leader's late answer touches nothing", () => {
    const table = createInflightTable(8, 64); // one bucket
    const dead = look(table, 8, 2);
    const waiting = look(table, 8, 1);
    expect(abandonStale(table, 2, 10, RECLAIM)).toBe(1);
    expect(readOutcome(table, waiting.entry, waiting.seq).state).toBe(CallState.Fallback);
    const stuck = look(table, 9, 0, 0);
    expect(abandonStale(table, -1, 30, RECLAIM)).toBe(1);
    // The entry is another key's call now; the stuck leader's answer must not land in it.
    const reused = look(table, 10, 3, 31);
    expect(reused.entry).toBe(stuck.entry);
    const waiter = look(table, 10, 1, 31);
    finishCall(table, leadOf(stuck, 9, 0), RECLAIM, Buffer.from('key 9'));
    finishCall(table, leadOf(reused, 10, 3), RECLAIM, Buffer.from('key 10'));
    expect(readOutcome(table, waiter.entry, waiter.seq).answer!.toString()).toBe('key 10');
    expect(dead.entry).toBeGreaterThanOrEqual(0);
  });

  it('passes by, till a later window, a bucket locked by a thread that died in it, whose exit is not handled yet', async () => {
    const table = createInflightTable(8, 64); // one bucket
    const stuck = look(table, 9, 0, 0);
    // Thread 4 took the bucket's lock and was stopped there (a worker's out-of-memory end).
    lockBucket(attachInflightTable(table.buffer, 4), entryLock(stuck.entry));
    // The coordinator's pass of each window runs before that thread's exit is handled: it must not wait.
    const pass = new Worker(WINDOW_PASS, { workerData: { buffer: table.buffer, now: 30, reclaimAt: RECLAIM } });
    try {
      const abandoned = await Promise.race([once(pass, 'message').then(([count]) => count as number), setTimeout(5_000, 'waited on the lock')]);
      expect(abandoned).toBe(0);
    } finally {
      await pass.terminate();
    }
    expect(releaseLocksOf(table, 4)).toBe(1);
    expect(abandonStale(table, -1, 30, RECLAIM)).toBe(1);
  });

  it('reclaims a settled entry from waiters whose thread died before reading it', () => {
    const table = createInflightTable(8, 64);
    const lead = look(table, 4, 0);
    const gone = look(table, 4, 1);
    finishCall(table, leadOf(lead, 4, 0), 50, Buffer.from('never read'));
    expect(inflightCounters(table).bytes).toBe(10);
    abandonStale(table, -1, 49, RECLAIM);
    expect(inflightCounters(table).bytes).toBe(10);
    abandonStale(table, -1, 50, RECLAIM);
    expect(inflightCounters(table).bytes).toBe(0);
    // A reader that turns up after all reads nothing.
    expect(readOutcome(table, gone.entry, gone.seq).state).toBe(CallState.Fallback);
  });

  it('answers none when every entry of the bucket leads a call: the read calls on its own', () => {
    const table = createInflightTable(WAYS, 64);
    for (let key = 0; key < WAYS; key++) expect(look(table, key, 0).role).toBe('lead');
    expect(look(table, 100, 0).role).toBe('none');
  });
});
