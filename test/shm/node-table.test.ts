import { describe, expect, it } from 'vitest';
import {
  attachNodeTable,
  clusterInFlight,
  createNodeTable,
  finishNodeRequest,
  inFlight,
  nodeBases,
  nodeRequests,
  startNodeRequest,
} from '../../src/shm/node-table.js';

describe('shared node table', () => {
  it('numbers nodes and clusters across clusters in config order', () => {
    const { bases, clusters, total } = nodeBases({ a: { nodes: [1, 2, 3] }, b: { nodes: [] }, c: { nodes: [4, 5] } });
    expect([...bases]).toEqual([['a', 0], ['b', 3], ['c', 3]]);
    expect([...clusters]).toEqual([['a', 0], ['b', 1], ['c', 2]]);
    expect(total).toBe(5);
  });

  it('counts in-flight and total requests per node and in-flight per cluster, seen through any view', () => {
    // Nodes 0-1 in cluster 0, nodes 2-4 in cluster 1.
    const table = createNodeTable(5, 2);
    const other = attachNodeTable(table.buffer);
    startNodeRequest(table, 2, 1);
    startNodeRequest(other, 2, 1);
    startNodeRequest(table, 0, 0);
    startNodeRequest(other, 4, 1);
    finishNodeRequest(other, 2, 1);
    expect([other.count, other.clusterCount]).toEqual([5, 2]);
    expect([0, 1, 2, 3, 4].map((n) => inFlight(other, n))).toEqual([1, 0, 1, 0, 1]);
    expect([0, 1, 2, 3, 4].map((n) => nodeRequests(table, n))).toEqual([1, 0, 2, 0, 1]);
    expect([clusterInFlight(table, 0), clusterInFlight(table, 1)]).toEqual([1, 2]);
  });
});
