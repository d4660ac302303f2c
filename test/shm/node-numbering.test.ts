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
});
