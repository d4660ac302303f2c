import { ConfigError, reloadedConfig, withExtraNodes, withoutNodes, type GatewayConfig } from '../config/load.js';
import type { NodeConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { CoordinatorMessage } from '../thread-protocol.js';
import type { DemoBackends } from './demo-backends.js';
import type { NodeMonitor } from './node-monitor.js';
import type { Topology, TopologyState } from './topology.js';

/** What a control-plane push changes in the running config's nodes. */
export interface NodeChange {
  readonly added: readonly { readonly cluster: string; readonly node: NodeConfig }[];
  readonly removed: readonly { readonly cluster: string; readonly id: string }[];
}

export type ReloadOutcome = { readonly ok: true; readonly needRestart: readonly string[] } | { readonly ok: false; readonly error: string };

export interface ReloadParts {
  /** Reads and validates the config again, from the same file and environment (config/load.ts). */
  readonly load: () => GatewayConfig;
  readonly topology: Topology;
  readonly nodeMonitor: NodeMonitor;
  readonly demo: DemoBackends;
  /** Sends a message to every running acceptor thread. */
  readonly broadcast: (message: CoordinatorMessage) => void;
  /** Told of every topology applied, so views and new threads use it. */
  readonly onApplied: (state: TopologyState) => void;
  readonly log: Logger;
}

/**
 * SIGHUP and POST /v1/reload: the config is read and validated again; on success routes, clusters,
 * nodes and the live settings are applied with no request failed or dropped: node slots and rings
 * of unchanged clusters stay, the node monitor settles health and rings for the new nodes, and the
 * acceptors swap their request path between requests. On failure nothing changes, and the
 * field-named error is logged and returned.
 */
export class Reloader {
  readonly #parts: ReloadParts;
  #ok = 0;
  #failed = 0;

  constructor(parts: ReloadParts) {
    this.#parts = parts;
  }

  get ok(): number {
    return this.#ok;
  }

  get failed(): number {
    return this.#failed;
  }

  reload(): ReloadOutcome {
    const { load, topology, demo } = this.#parts;
    let needRestart: string[] = [];
    return this.#apply(() => {
      const loaded = load();
      const next = reloadedConfig(demo.appendTo(loaded), topology.state.config);
      needRestart = [...next.needRestart, ...demo.unstartedIn(loaded)];
      return next.config;
    }, () => needRestart, 'reload');
  }

  /**
   * Nodes a control-plane push adds to the running config or removes from it (until the next
   * reload from the file); `change` validated already. Applied like a reload, in one step.
   */
  pushNodes(change: NodeChange): ReloadOutcome {
    return this.#apply(() => {
      // One copy of the config per cluster: one per node made a push of n nodes cost n copies of a growing config.
      const added = new Map<string, NodeConfig[]>();
      for (const { cluster, node } of change.added) {
        const nodes = added.get(cluster);
        if (nodes === undefined) added.set(cluster, [node]);
        else nodes.push(node);
      }
      const removed = new Map<string, Set<string>>();
      for (const { cluster, id } of change.removed) removed.set(cluster, (removed.get(cluster) ?? new Set()).add(id));
      let config = this.#parts.topology.state.config;
      for (const [cluster, ids] of removed) config = withoutNodes(config, cluster, ids);
      for (const [cluster, nodes] of added) config = withExtraNodes(config, cluster, nodes);
      return config;
    }, () => [], 'push');
  }

  /** `kind`: a push is applied as a reload is, but neither counted nor logged as one (alerts on failed reloads must not fire on a controller's pushes). */
  #apply(next: () => GatewayConfig, needRestartOf: () => string[], kind: 'reload' | 'push'): ReloadOutcome {
    const { topology, nodeMonitor, broadcast, onApplied, log } = this.#parts;
    let state: TopologyState;
    try {
      // Whatever loading throws (a ConfigError, a RangeError from the node table, or a bug), the
      // running config stays: a reload must never take the gateway down.
      state = topology.apply(next());
    } catch (err) {
      if (!(err instanceof ConfigError) && !(err instanceof RangeError)) log.error({ err }, `config ${kind} threw`);
      const error = (err as Error).message;
      if (kind === 'push') {
        log.warn({ code: 'ERR_BAD_PUSH', error }, 'control-plane push refused; the running config stays');
        return { ok: false, error };
      }
      this.#failed++;
      log.error({ code: 'ERR_RELOAD_FAILED', error }, 'config reload failed; the running config stays');
      return { ok: false, error };
    }
    const needRestart = needRestartOf();
    warnUnverifiedTls(state.config.clusters, log);
    try {
      nodeMonitor.reconfigure(state.config, state.numbering, state.rings);
      onApplied(state);
      broadcast({ type: 'reload', config: state.config, rings: state.ringBuffers, numbering: state.numbering, epoch: state.epoch });
    } catch (err) {
      // A bug, once the topology is in place: thrown on into a signal or admin handler it would
      // end the process. The gateway stays up, saying its state is in doubt.
      const error = `applied only in part (${(err as Error).message}): restart the gateway`;
      log.error({ err, code: kind === 'push' ? 'ERR_BAD_PUSH' : 'ERR_RELOAD_FAILED' }, `config ${kind} threw after it was applied`);
      if (kind === 'reload') this.#failed++;
      return { ok: false, error };
    }
    if (kind === 'push') {
      log.info({ nodes: Object.values(state.numbering.members).reduce((sum, slots) => sum + slots.length, 0) }, 'nodes added or removed by a control-plane push');
      return { ok: true, needRestart };
    }
    this.#ok++;
    if (needRestart.length > 0) log.warn({ settings: needRestart }, 'config reloaded; these settings change only with a restart');
    else log.info({ clusters: Object.keys(state.config.clusters).length, routes: state.config.routes.length }, 'config reloaded');
    return { ok: true, needRestart };
  }
}

/** Start-up and every reload: each cluster whose https nodes' certificates go unchecked is named in a warning. */
export function warnUnverifiedTls(clusters: GatewayConfig['clusters'], log: Logger): void {
  for (const [cluster, { tls }] of Object.entries(clusters)) {
    if (tls?.verify === false) log.warn({ cluster }, 'upstream TLS certificates of this cluster are not verified (tls.verify false): anyone on the path can pose as its nodes');
  }
}
