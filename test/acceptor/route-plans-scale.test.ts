import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../helpers/scratch.js';
import { loadConfig } from '../../src/config/load.js';
import { compileRoutes } from '../../src/routing/route-table.js';
import { compileRoutePlans } from '../../src/acceptor/route-plans.js';
import { NodeDirectory } from '../../src/shm/node-numbering.js';
import { createNodeTable } from '../../src/shm/node-table.js';
import { createBreakerTable } from '../../src/shm/breaker-table.js';
import { RequestRecorder } from '../../src/metrics/request-recorder.js';
import { ZoneCrossings } from '../../src/metrics/zone-crossings.js';
import { loadTenantKeyer } from '../../src/hash.js';
import type { SharedRing } from '../../src/shm/ring-buffer.js';
import type { UpstreamDispatcher } from '../../src/upstream/dispatcher.js';

describe('route plans at scale', () => {
  it('builds each cluster\'s node lists once, not once per route (2,000 routes over a 500-node cluster)', async () => {
    const routes = 2_000;
    const nodes = 500;
    const config = {
      routes: Array.from({ length: routes }, (_, i) => ({ prefix: `/p${i}/`, cluster: i % 10 === 0 ? 'small' : 'big' })),
      clusters: {
        big: { nodes: Array.from({ length: nodes }, (_, i) => ({ id: `n${i}`, url: `http://127.0.0.1:${10_000 + (i % 50)}` })) },
        small: { nodes: [{ id: 's0', url: 'http://[::1]:9000' }] },
      },
    };
    const path = join(scratchDir('ringgate-plans-'), 'config.json');
    writeFileSync(path, JSON.stringify(config));
    const loaded = loadConfig({ GATEWAY_CONFIG: path });
    const numbering = new NodeDirectory(1024, 1024).number(loaded.clusters);
    const table = compileRoutes(loaded.routes);
    const pools = new Map<string, UpstreamDispatcher[]>(Object.entries(loaded.clusters).map(([name, c]) => [name, c.nodes.map(() => ({}) as UpstreamDispatcher)]));
    const rings = new Map<string, SharedRing>(Object.keys(loaded.clusters).map((name) => [name, {} as SharedRing]));
    const plans = compileRoutePlans(loaded, table, {
      pools,
      nodes: createNodeTable(1024, 1024, 1),
      numbering,
      rings,
      recorder: new RequestRecorder(table.routes.map((route) => route.label), 0),
      crossings: new ZoneCrossings('local'),
      breakers: createBreakerTable(1024),
      accessLogged: false,
      keyer: await loadTenantKeyer(0n),
    });
    expect(plans).toHaveLength(routes);
    // What each plan says is unchanged...
    const big = plans[1]!;
    expect(big.nodeIds).toHaveLength(nodes);
    expect(big.nodeIds[7]).toBe('n7');
    expect(big.nodePeers[7]).toEqual({ address: '127.0.0.1', port: 10_007 });
    expect([...big.members]).toEqual(numbering.members.big);
    expect(plans[0]!.nodePeers).toEqual([{ address: '::1', port: 9000 }]);
    // ...but a cluster's lists exist once, whatever its route count: per route they cost
    // routes × nodes (2,000 × 500 URL parses, a second-long stall of every acceptor at a reload).
    const distinct = (pick: (plan: (typeof plans)[number]) => object) => new Set(plans.map(pick)).size;
    expect(distinct((plan) => plan.nodePeers)).toBe(2);
    expect(distinct((plan) => plan.nodeIds)).toBe(2);
    expect(distinct((plan) => plan.members)).toBe(2);
  });
});
