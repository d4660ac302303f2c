import { describe, expect, it } from 'vitest';
import { DASHBOARD_TENANTS, readDashboard, type NodeRow, type TenantRow } from '../../src/coordinator/dashboard-state.js';
import type { RingEvent, ShardEvent } from '../../src/coordinator/recent-events.js';
import { createNodeTable, initNode, NodeOutcome, recordNodeOutcome, setClusterPanic } from '../../src/shm/node-table.js';

function node(cluster: string, id: string, index: number, points: number, requests: number): NodeRow {
  return {
    index,
    cluster,
    node: id,
    url: `http://127.0.0.1:${9000 + index}`,
    zone: 'z',
    health: 1,
    reason: 'healthy',
    weight: 1,
    points,
    activeCheck: 'off',
    slowStart: 1,
    maxInFlight: null,
    inFlight: index,
    requests,
    breaker: null,
  };
}

describe('dashboard state', () => {
  it("groups nodes by cluster (one without nodes too) with their share of its points and errors, sums each cluster's counters, and merges rebalance events newest first", () => {
    const table = createNodeTable(4, 2, 1);
    [0, 0, 0, 1].forEach((cluster, n) => initNode(table, n, cluster));
    setClusterPanic(table, 1, true);
    recordNodeOutcome(table, 1, NodeOutcome.Failed);
    recordNodeOutcome(table, 1, NodeOutcome.ConnectFailed);
    recordNodeOutcome(table, 2, NodeOutcome.Failed);
    const shard: ShardEvent = { kind: 'shard', at: 300, tenant: 'acme', from: 1, to: 2 };
    const ring: RingEvent = { kind: 'ring', at: 200, cluster: 'api', moved: 1, moves: [{ node: 'a2', from: 0, to: 150 }] };
    const tops: number[] = [];
    const tenant: TenantRow = {
      tenant: 'acme',
      windowRequests: 5,
      totalRequests: 50,
      windowErrors5xx: 0,
      totalErrors5xx: 0,
      windowAvgLatencyMs: 250,
      avgLatencyMs: 250,
      lastSeenMsAgo: 0,
      score: 250,
      k: 2,
      candidates: { api: ['a0', 'a1'] },
    };
    const state = readDashboard({
      settings: { routingMode: 'adaptive', hotScore: 100, scoreWindowMs: 1000 },
      nodeTable: table,
      controlPlane: { mode: 'least-connections' },
      tenants: { windows: 7, rebalances: 4, recentRebalances: () => [shard] },
      nodeMonitor: { rebuilds: 2, recentRebuilds: () => [ring] },
      nodes: () => [node('api', 'a0', 0, 150, 10), node('api', 'a1', 1, 150, 20), node('api', 'a2', 2, 300, 30), node('web', 'w0', 3, 0, 0)],
      tenantRows: (top) => {
        tops.push(top);
        return [tenant];
      },
      clusterSlots: () => ({ api: 0, web: 1, empty: 2 }),
      now: () => 1234,
    });
    expect(state).toMatchObject({ at: 1234, routing: { mode: 'adaptive', selection: 'least-connections' }, hotScore: 100, windowMs: 1000, window: 7 });
    expect(state.clusters.map(({ nodes, ...cluster }) => cluster)).toEqual([
      { name: 'api', panic: false, zoneFallback: false, points: 600, inFlight: 0 + 1 + 2, requests: 60, errors: 3 },
      { name: 'web', panic: true, zoneFallback: false, points: 0, inFlight: 3, requests: 0, errors: 0 },
      // No node: still shown, waiting for pushes (its routes answer 503).
      { name: 'empty', panic: false, zoneFallback: false, points: 0, inFlight: 0, requests: 0, errors: 0 },
    ]);
    expect(state.clusters[0]!.nodes.map(({ node, share, errors }) => ({ node, share, errors }))).toEqual([
      { node: 'a0', share: 0.25, errors: 0 },
      { node: 'a1', share: 0.25, errors: 2 },
      { node: 'a2', share: 0.5, errors: 1 },
    ]);
    expect(state.clusters[1]!.nodes[0]!.share).toBe(0);
    expect(tops).toEqual([DASHBOARD_TENANTS]);
    expect(state.tenants).toEqual([tenant]);
    expect(state.rebalances).toEqual({ shardChanges: 4, ringRebuilds: 2, recent: [shard, ring] });
  });
});
