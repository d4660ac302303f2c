import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, withExtraNodes } from '../../src/config/load.js';
import { startDemoBackends } from '../../src/coordinator/demo-backends.js';
import { createLogger } from '../../src/log.js';
import { writeConfig } from '../helpers/gateway-process.js';

describe('built-in demo backends', () => {
  it('take ids of their own, past any the cluster has, and answer under them', async () => {
    const config = loadConfig({ GATEWAY_CONFIG: writeConfig({ routes: [{ prefix: '/', cluster: 'api' }], clusters: { api: { nodes: [{ id: 'api-2', url: 'http://127.0.0.1:9' }], demoBackends: ['a', 'b'] } } }) });
    const demo = await startDemoBackends(config, createLogger('silent'));
    try {
      const nodes = demo.config.clusters.api!.nodes;
      expect(nodes.map((node) => node.id)).toEqual(['api-2', 'api-3', 'api-4']);
      const answer = (await (await fetch(`${nodes[1]!.url}/x`)).json()) as { backend: string; az: string };
      expect(answer).toMatchObject({ backend: 'api-3', az: 'a' });
    } finally {
      await demo.close();
    }
  });

  it('name, for a reload, the clusters asking for demo backends other than those started (they start only with the process)', async () => {
    const configWith = (clusters: Record<string, { demoBackends: string[] }>) =>
      loadConfig({
        GATEWAY_CONFIG: writeConfig({ routes: Object.keys(clusters).map((cluster, i) => ({ prefix: `/${i}`, cluster })), clusters: Object.fromEntries(Object.entries(clusters).map(([name, c]) => [name, { nodes: [], ...c }])) }),
      });
    const demo = await startDemoBackends(configWith({ api: { demoBackends: ['a', 'b'] } }), createLogger('silent'));
    try {
      expect(demo.unstartedIn(configWith({ api: { demoBackends: ['a', 'b'] } }))).toEqual([]);
      expect(demo.unstartedIn(configWith({ api: { demoBackends: [] } }))).toEqual([]);
      expect(demo.unstartedIn(configWith({ api: { demoBackends: ['a', 'b', 'c'] } }))).toEqual(['clusters.api.demoBackends']);
      expect(demo.unstartedIn(configWith({ api: { demoBackends: ['a', 'b'] }, web: { demoBackends: ['a'] } }))).toEqual(['clusters.web.demoBackends']);
    } finally {
      await demo.close();
    }
  });

  it('refuse to join a cluster under an id it has: a reload naming a node as one of them fails, saying so', () => {
    const config = loadConfig({ GATEWAY_CONFIG: writeConfig({ routes: [{ prefix: '/', cluster: 'api' }], clusters: { api: { nodes: [{ id: 'api-1', url: 'http://127.0.0.1:9' }] } } }) });
    expect(() => withExtraNodes(config, 'api', [{ id: 'api-1', url: 'http://127.0.0.1:10', az: 'a', weight: 1 }])).toThrow(ConfigError);
    expect(() => withExtraNodes(config, 'api', [{ id: 'api-1', url: 'http://127.0.0.1:10', az: 'a', weight: 1 }])).toThrow('clusters.api.nodes: "api-1" is there twice');
  });
});
