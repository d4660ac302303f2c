import { describe, expect, it } from 'vitest';
import {
  attachNodeTable,
  ClusterLoads,
  clusterInFlight,
  createNodeTable,
  initNode,
  finishNodeRequest,
  inFlight,
  nodeRequests,
  releaseLane,
  startNodeRequest,
} from '../../src/shm/node-table.js';

/** A table with room for 8 nodes and 4 clusters, its first slots given to clusters of `sizes` nodes. */
function withClusters(sizes: number[], lanes: number) {
  const table = createNodeTable(8, 4, lanes);
  let node = 0;
  sizes.forEach((size, cluster) => {
    for (let i = 0; i < size; i++) initNode(table, node++, cluster);
  });
  return table;
}

describe('shared node table', () => {
  it('counts in-flight and total requests per node and in-flight per cluster, seen through any view', () => {
    // Nodes 0-1 in cluster 0, nodes 2-4 in cluster 1; two acceptor lanes.
    const table = withClusters([2, 3], 2);
    const other = attachNodeTable(table.buffer);
    startNodeRequest(table, 0, 2, 1);
    startNodeRequest(other, 1, 2, 1);
    startNodeRequest(table, 0, 0, 0);
    startNodeRequest(other, 1, 4, 1);
    finishNodeRequest(other, 1, 2, 1);
    expect([other.count, other.clusterCount, other.laneCount]).toEqual([8, 4, 2]);
    expect([0, 1, 2, 3, 4].map((n) => inFlight(other, n))).toEqual([1, 0, 1, 0, 1]);
    expect([0, 1, 2, 3, 4].map((n) => nodeRequests(table, n))).toEqual([1, 0, 2, 0, 1]);
    expect([clusterInFlight(table, 0), clusterInFlight(table, 1)]).toEqual([1, 2]);
    // A cluster's loads as the selection walk reads them: by index within the cluster.
    const second = new ClusterLoads(other, [2, 3, 4]);
    expect([0, 1, 2].map((i) => second.load(i))).toEqual([1, 0, 1]);
  });

  it('takes back exactly what a dead thread held, leaving the other threads\' requests counted', () => {
    const table = withClusters([2, 3], 3);
    startNodeRequest(table, 0, 1, 0);
    startNodeRequest(table, 1, 1, 0);
    startNodeRequest(table, 1, 1, 0);
    startNodeRequest(table, 1, 3, 1);
    startNodeRequest(table, 2, 3, 1);
    finishNodeRequest(table, 1, 1, 0);
    expect(releaseLane(table, 1)).toBe(2); // one on node 1, one on node 3
    expect([0, 1, 2, 3, 4].map((n) => inFlight(table, n))).toEqual([0, 1, 0, 1, 0]);
    expect([clusterInFlight(table, 0), clusterInFlight(table, 1)]).toEqual([1, 1]);
    // The lane is empty now: a restarted thread starts from zero, and a second release takes nothing.
    expect(releaseLane(table, 1)).toBe(0);
    finishNodeRequest(table, 0, 1, 0);
    finishNodeRequest(table, 2, 3, 1);
    expect([0, 1, 2, 3, 4].map((n) => inFlight(table, n))).toEqual([0, 0, 0, 0, 0]);
    expect([clusterInFlight(table, 0), clusterInFlight(table, 1)]).toEqual([0, 0]);
    expect([0, 1, 2, 3, 4].map((n) => nodeRequests(table, n))).toEqual([0, 3, 0, 2, 0]);
  });
});
