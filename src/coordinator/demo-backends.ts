import { Buffer } from 'node:buffer';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withExtraNodes, type GatewayConfig } from '../config/load.js';
import type { ClusterConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { logLaterErrors } from './listening-errors.js';

export interface DemoBackends {
  readonly config: GatewayConfig;
  /**
   * A reloaded config with the running demo nodes added to the clusters that ask for demo
   * backends (they are started once: to change them, restart).
   */
  appendTo(config: GatewayConfig): GatewayConfig;
  /** `clusters.<name>.demoBackends` for each cluster of `config` asking for demo backends other than those started. */
  unstartedIn(config: GatewayConfig): string[];
  close(): Promise<void>;
}

/**
 * Starts the built-in demo backends a config asks for (`clusters.*.demoBackends`: one small HTTP
 * server on 127.0.0.1 per AZ label) and returns the config with them added as nodes. They answer
 * JSON naming themselves, so a user sees which node served a tenant.
 */
export async function startDemoBackends(config: GatewayConfig, log: Pick<Logger, 'warn'>): Promise<DemoBackends> {
  const servers: Server[] = [];
  const started = new Map<string, ClusterConfig['nodes']>();
  const startedZones = new Map<string, string>();
  let result = config;
  for (const [cluster, { demoBackends, nodes }] of Object.entries(config.clusters)) {
    const added = [];
    // Numbered after the cluster's own nodes, skipping an id one of them has.
    const taken = new Set(nodes.map((node) => node.id));
    let number = nodes.length;
    for (const az of demoBackends) {
      let id: string;
      do id = `${cluster}-${++number}`;
      while (taken.has(id));
      const server = createServer((req, res) => {
        let receivedBytes = 0;
        req.on('data', (chunk: Buffer) => (receivedBytes += chunk.length));
        req.on('end', () => {
          const body = JSON.stringify({
            backend: id,
            az,
            method: req.method,
            path: req.url,
            tenant: req.headers[config.settings.tenantHeader] ?? null,
            receivedBytes,
          });
          res.writeHead(200, { 'content-type': 'application/json' }).end(`${body}\n`);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      logLaterErrors(server, log, `demo backend ${id}`);
      servers.push(server);
      added.push({ id, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, az, weight: 1 });
    }
    if (added.length > 0) result = withExtraNodes(result, cluster, added);
    started.set(cluster, added);
    startedZones.set(cluster, JSON.stringify(demoBackends));
  }
  return {
    config: result,
    appendTo: (next) =>
      Object.entries(next.clusters).reduce((withDemo, [cluster, { demoBackends }]) => {
        const nodes = started.get(cluster) ?? [];
        return demoBackends.length > 0 && nodes.length > 0 ? withExtraNodes(withDemo, cluster, nodes) : withDemo;
      }, next),
    unstartedIn: (next) =>
      Object.entries(next.clusters)
        .filter(([cluster, { demoBackends }]) => demoBackends.length > 0 && JSON.stringify(demoBackends) !== (startedZones.get(cluster) ?? '[]'))
        .map(([cluster]) => `clusters.${cluster}.demoBackends`),
    close: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
