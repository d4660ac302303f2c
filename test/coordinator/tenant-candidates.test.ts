import { beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/config/load.js';
import { fileSchema } from '../../src/config/schema.js';
import { candidateNodes, createClusterRing, tenantCandidates } from '../../src/coordinator/rings.js';
import { loadHash32 } from '../../src/hash.js';
import type { Hash32 } from '../../src/routing/ring.js';

let hash32: Hash32;
beforeAll(async () => {
  hash32 = await loadHash32();
});

/** Clusters t0..t2 keyed by tenant (t1 by two routes), `paths` keyed by path; 5 nodes each. */
function config(): GatewayConfig {
  const nodes = (cluster: string) => Array.from({ length: 5 }, (_, i) => ({ id: `${cluster}-n${i}`, url: `http://127.0.0.1:${9000 + i}` }));
  const file = fileSchema.parse({
    routes: [
      { prefix: '/a/', cluster: 't0' },
      { prefix: '/b/', cluster: 't1' },
      { prefix: '/c/', cluster: 't1' },
      { prefix: '/d/', cluster: 't2', hashOn: 'tenant' },
      { prefix: '/e/', cluster: 'paths', hashOn: 'path' },
    ],
    clusters: Object.fromEntries(['t0', 't1', 't2', 'paths'].map((name) => [name, { nodes: nodes(name) }])),
  });
  return { source: 'test', settings: {}, routes: file.routes, clusters: file.clusters } as unknown as GatewayConfig;
}

describe('tenant candidates for views', () => {
  it('lists every tenant with its first k distinct nodes on each tenant-keyed cluster, by node id, in the order asked', () => {
    const cfg = config();
    const rings = new Map(Object.entries(cfg.clusters).map(([name, cluster]) => [name, createClusterRing(cluster.nodes, hash32)]));
    const listed = Array.from({ length: 40 }, (_, i) => ({ tenant: `tenant-${i}`, k: 1 + (i % 7) }));
    const rows = tenantCandidates(cfg, rings, hash32)(listed);
    expect(rows).toHaveLength(listed.length);
    listed.forEach(({ tenant, k }, i) => {
      expect(rows[i]).toMatchObject({ tenant, k });
      expect(Object.keys(rows[i]!.candidates)).toEqual(['t0', 't1', 't2']);
      for (const cluster of ['t0', 't1', 't2']) {
        const expected = candidateNodes(rings.get(cluster)!.data, hash32(tenant), k).map((node) => `${cluster}-n${node}`);
        // k past the cluster's 5 nodes lists each node once.
        expect(expected).toHaveLength(Math.min(k, 5));
        expect(rows[i]!.candidates[cluster]).toEqual(expected);
      }
    });
  });

  it('reads each ring as it is now: a rebuilt ring moves the candidates', () => {
    const cfg = config();
    const rings = new Map(Object.entries(cfg.clusters).map(([name, cluster]) => [name, createClusterRing(cluster.nodes, hash32)]));
    const candidatesOf = tenantCandidates(cfg, rings, hash32);
    const before = candidatesOf([{ tenant: 'moving', k: 1 }])[0]!.candidates.t0![0]!;
    // A republish (a node down) gives the cluster a ring without that node.
    const up = cfg.clusters.t0!.nodes.filter((node) => node.id !== before);
    rings.get('t0')!.data = createClusterRing(up.map((node) => ({ ...node })), hash32).data;
    const after = candidatesOf([{ tenant: 'moving', k: 1 }])[0]!.candidates.t0![0]!;
    expect(after).not.toBe(before);
  });
});
