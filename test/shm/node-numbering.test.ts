import { describe, expect, it } from 'vitest';
import { NodeDirectory } from '../../src/shm/node-numbering.js';

const clusters = (spec: Record<string, string[]>) => Object.fromEntries(Object.entries(spec).map(([name, ids]) => [name, { nodes: ids.map((id) => ({ id })) }]));

describe('node directory', () => {
  it('numbers clusters and nodes in config order, and lists every slot it gave out', () => {
    const numbering = new NodeDirectory(8, 4).number(clusters({ a: ['x', 'y', 'z'], b: [], c: ['x', 'w'] }));
    expect(numbering.clusters).toEqual({ a: 0, b: 1, c: 2 });
    expect(numbering.members).toEqual({ a: [0, 1, 2], b: [], c: [3, 4] });
    expect(numbering.added).toEqual([
      { node: 0, cluster: 0 },
      { node: 1, cluster: 0 },
      { node: 2, cluster: 0 },
      { node: 3, cluster: 2 },
      { node: 4, cluster: 2 },
    ]);
  });

  it('keeps every known node\'s slot when the config changes, whatever its position, and gives new ones the next slots', () => {
    const directory = new NodeDirectory(8, 4);
    directory.number(clusters({ a: ['x', 'y'], c: ['w'] }));
    const next = directory.number(clusters({ c: ['v', 'w'], a: ['y'], d: ['x'] }));
    expect(next.members).toEqual({ c: [3, 2], a: [1], d: [4] });
    expect(next.clusters).toEqual({ c: 1, a: 0, d: 2 });
    expect(next.added).toEqual([
      { node: 3, cluster: 1 },
      { node: 4, cluster: 2 },
    ]);
  });

  it('refuses a config that would need more slots than the table has, giving out none', () => {
    const directory = new NodeDirectory(3, 2);
    directory.number(clusters({ a: ['x', 'y'] }));
    expect(() => directory.number(clusters({ a: ['x', 'y', 'z', 'q'] }))).toThrow(/GATEWAY_MAX_NODES \(3\)/);
    expect(() => directory.number(clusters({ a: ['x'], b: [], c: [] }))).toThrow(RangeError);
    // Nothing was given out by the refused calls: the one slot left is still free.
    expect(directory.number(clusters({ a: ['x', 'y', 'z'] })).added).toEqual([{ node: 2, cluster: 0 }]);
  });

  it('gives a removed node\'s slot to a new one only once no request of a config that had it can run', () => {
    const directory = new NodeDirectory(3, 2);
    directory.number(clusters({ a: ['x', 'y'] }), 0);
    // Epoch 1 drops x: its slot stays taken, so one slot is left.
    expect(directory.number(clusters({ a: ['y', 'z'] }), 1).added).toEqual([{ node: 2, cluster: 0 }]);
    expect(() => directory.number(clusters({ a: ['y', 'z', 'w'] }), 2)).toThrow(/4 nodes, 1 of them removed but maybe still in use by requests of an older config exceed GATEWAY_MAX_NODES \(3\)/);
    // Every thread still may run a request of epoch 0: nothing is freed.
    expect(directory.release(0)).toEqual([]);
    // None runs one older than epoch 1 (the first without x): x's slot goes to w.
    expect(directory.release(1)).toEqual([0]);
    const next = directory.number(clusters({ a: ['y', 'z', 'w'] }), 2);
    expect(next.members.a).toEqual([1, 2, 0]);
    expect(next.added).toEqual([{ node: 0, cluster: 0 }]);
    // x comes back later: a slot of its own, new to it.
    expect(() => directory.number(clusters({ a: ['y', 'z', 'w', 'x'] }), 3)).toThrow(RangeError);
  });

  it('keeps the slot of a node removed and added back before its slot was freed, and frees nothing of it', () => {
    const directory = new NodeDirectory(4, 2);
    directory.number(clusters({ a: ['x', 'y'] }), 0);
    directory.number(clusters({ a: ['y'] }), 1);
    const back = directory.number(clusters({ a: ['y', 'x'] }), 2);
    expect(back.members.a).toEqual([1, 0]);
    expect(back.added).toEqual([]);
    expect(directory.release(2)).toEqual([]);
  });
});
