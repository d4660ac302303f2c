import { describe, expect, it } from 'vitest';
import { addInFlight, attachNodeTable, createNodeTable, inFlight, nodeBases } from '../../src/shm/node-table.js';

describe('shared node table', () => {
  it('numbers nodes across clusters in config order', () => {
    const { bases, total } = nodeBases({ a: { nodes: [1, 2, 3] }, b: { nodes: [] }, c: { nodes: [4, 5] } });
    expect([...bases]).toEqual([['a', 0], ['b', 3], ['c', 3]]);
    expect(total).toBe(5);
  });

  it('counts in-flight requests per node, seen through any view of the buffer', () => {
    const table = createNodeTable(3);
    const other = attachNodeTable(table.buffer);
    addInFlight(table, 2, 1);
    addInFlight(other, 2, 1);
    addInFlight(table, 0, 1);
    addInFlight(other, 2, -1);
    expect(other.count).toBe(3);
    expect([0, 1, 2].map((n) => inFlight(other, n))).toEqual([1, 0, 1]);
  });
});
