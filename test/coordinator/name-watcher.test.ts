import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NameWatcher } from '../../src/coordinator/name-watcher.js';
import { nodeLookup } from '../../src/upstream/node-dial.js';
import type { NameTable, ResolvedAddress } from '../../src/upstream/node-names.js';

const TTL = 1000;
const v4 = (...addresses: string[]): ResolvedAddress[] => addresses.map((address) => ({ address, family: 4 }));
const tableOf = (names: Record<string, ResolvedAddress[]>): NameTable => new Map(Object.entries(names));

let answers: Map<string, ResolvedAddress[] | Error>;
let asked: string[];
let lines: { level: number; msg: string; name?: string; failures?: number }[];
let changes: NameTable[];
let watcher: NameWatcher;

beforeEach(() => {
  vi.useFakeTimers();
  answers = new Map([['a.test', v4('10.0.0.1')], ['b.test', v4('10.0.0.2', '10.0.0.3')]]);
  asked = [];
  lines = [];
  changes = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
  const resolve = async (name: string): Promise<ResolvedAddress[]> => {
    asked.push(name);
    const answer = answers.get(name) ?? new Error(`${name}: ENOTFOUND`);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  watcher = new NameWatcher(resolve, TTL, log, (table) => changes.push(table), () => Date.now());
});

afterEach(() => {
  watcher.stop();
  vi.useRealTimers();
});

describe('node host names (NameWatcher)', () => {
  it('resolves every name before it returns, reporting nothing yet (the threads start on the table)', async () => {
    await watcher.start(new Set(['a.test', 'b.test']));
    expect(watcher.table).toEqual(tableOf({ 'a.test': v4('10.0.0.1'), 'b.test': v4('10.0.0.2', '10.0.0.3') }));
    expect(changes).toEqual([]);
  });

  it('reports the whole table when a name moves, and nothing when its answers only change order', async () => {
    await watcher.start(new Set(['a.test', 'b.test']));
    answers.set('b.test', v4('10.0.0.3', '10.0.0.2'));
    await vi.advanceTimersByTimeAsync(TTL);
    expect(changes).toEqual([]);
    answers.set('a.test', v4('10.0.0.9'));
    await vi.advanceTimersByTimeAsync(TTL);
    expect(changes).toEqual([tableOf({ 'a.test': v4('10.0.0.9'), 'b.test': v4('10.0.0.2', '10.0.0.3') })]);
    expect(lines.filter((l) => l.msg.includes('new addresses')).map((l) => l.name)).toEqual(['a.test']);
  });

  it('keeps the last good addresses of a name that fails, logging once a minute at most, and its recovery', async () => {
    await watcher.start(new Set(['a.test']));
    answers.set('a.test', new Error('a.test: ENOTFOUND'));
    await vi.advanceTimersByTimeAsync(30 * TTL);
    expect(watcher.table).toEqual(tableOf({ 'a.test': v4('10.0.0.1') }));
    expect(lines.filter((l) => l.msg.includes('could not be resolved'))).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(31 * TTL);
    const failures = lines.filter((l) => l.msg.includes('could not be resolved'));
    expect(failures.map((l) => l.failures)).toEqual([1, 60]);
    answers.set('a.test', v4('10.0.0.1'));
    await vi.advanceTimersByTimeAsync(TTL);
    expect(lines.filter((l) => l.msg.includes('resolves again'))).toHaveLength(1);
    expect(changes).toEqual([]);
  });

  it('follows a reload: a new name is resolved at once and reported, a dropped one leaves the table', async () => {
    await watcher.start(new Set(['a.test']));
    answers.set('c.test', v4('10.0.0.4'));
    watcher.watch(new Set(['c.test']));
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual([tableOf({ 'c.test': v4('10.0.0.4') })]);
    asked.length = 0;
    await vi.advanceTimersByTimeAsync(TTL);
    expect(asked).toEqual(['c.test']);
  });

  it("keeps hosts named as objects' own properties are (constructor, __proto__) like any other", async () => {
    answers.set('constructor', v4('10.0.0.5'));
    answers.set('__proto__', v4('10.0.0.6'));
    // Not resolved yet, such a name is no address: a thread dials it through Node's lookup.
    expect(nodeLookup('http://constructor:8080', watcher.table, null)).toBeUndefined();
    await watcher.start(new Set(['constructor', '__proto__']));
    expect(watcher.table).toEqual(new Map([['constructor', v4('10.0.0.5')], ['__proto__', v4('10.0.0.6')]]));
    expect(nodeLookup('http://constructor:8080', watcher.table, null)).toBeTypeOf('function');
    // One moves, the other fails to resolve and keeps its addresses.
    answers.set('constructor', v4('10.0.0.7'));
    answers.delete('__proto__');
    await vi.advanceTimersByTimeAsync(TTL);
    expect(changes).toEqual([new Map([['constructor', v4('10.0.0.7')], ['__proto__', v4('10.0.0.6')]])]);
    expect(lines.some((line) => line.name === '__proto__' && line.msg.includes('could not be resolved'))).toBe(true);
  });

  it('costs nothing without names: no timer runs', async () => {
    await watcher.start(new Set());
    await vi.advanceTimersByTimeAsync(10 * TTL);
    expect(asked).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
