import { performance } from 'node:perf_hooks';
import type { GatewayConfig } from '../config/load.js';
import { loadHash32 } from '../hash.js';
import type { Logger } from '../log.js';
import { CoordinatorMetrics } from '../metrics/coordinator-metrics.js';
import { unwrapSharedTotals } from '../metrics/unwrapped-totals.js';
import type { AcceptorInit } from '../thread-protocol.js';
import { startAdminServer } from './admin-server.js';
import { isLoopback, listenOnAll } from './listen-address.js';
import { readDashboard } from './dashboard-state.js';
import { startDemoBackends } from './demo-backends.js';
import { activePointCount } from '../shm/ring-buffer.js';
import { Reloader, warnUnverifiedTls, type ReloadOutcome } from './reloader.js';
import { tenantCandidates } from './rings.js';
import { Topology } from './topology.js';
import { inFlight } from '../shm/node-table.js';
import { readRetryCounters, retriesInFlight } from '../shm/retry-table.js';
import { BREAKER_STATE_NAMES, BreakerState } from '../resilience/breaker.js';
import { breakerState } from '../shm/breaker-table.js';
import { BreakerMonitor } from './breaker-monitor.js';
import { inflightCounters } from '../shm/inflight-table.js';
import { limiterEvictions } from '../shm/limiter-table.js';
import { idempotencyEvictions } from '../shm/idempotency-table.js';
import { abandonStuckCalls, createSharedTables, releaseThreadShares, sharedBuffers } from './shared-tables.js';
import { InlineAcceptor } from './inline-acceptor.js';
import { startAcceptorThread } from './acceptor-thread.js';
import { ControlPlane } from './control-plane.js';
import { NodeMonitor } from './node-monitor.js';
import { TenantTracker } from './tenant-tracker.js';
import type { TenantOrder } from './tenant-view.js';
import { Supervisor } from './supervisor.js';
import { NameWatcher } from './name-watcher.js';
import { nodeHostnames } from '../upstream/node-names.js';
import { createResolve, currentLookup, FORGET_NAMES_AFTER_TTLS } from '../upstream/resolve.js';
import { loadUndici } from '../upstream/undici-loader.js';

export interface RunningGateway {
  readonly config: GatewayConfig;
  readonly port: number;
  readonly adminPort: number;
  /** SIGHUP: the config file and environment read again and applied live, or the error why not. */
  reload(): ReloadOutcome;
  /** Graceful: stop accepting, finish in-flight requests up to GATEWAY_DRAIN_MS, close everything. */
  stop(): Promise<void>;
}

/** The coordinator: shared memory, acceptor threads, admin server; returns once everything listens. */
export async function startGateway(loaded: GatewayConfig, log: Logger, load: () => GatewayConfig): Promise<RunningGateway> {
  const demo = await startDemoBackends(loaded, log);
  const { config } = demo;
  const { settings } = config;
  // Health checks make pools synchronously, for whatever nodes a reload or push adds: undici's is
  // loaded at start (an acceptor loads it only once its config needs it).
  const [hash32] = await Promise.all([loadHash32(), loadUndici()]);
  const tables = createSharedTables(settings);
  const { tenants: tenantTable, nodes: nodeTable, breakers: breakerTable, retries: retryTable } = tables;
  const topology = new Topology(config, nodeTable, hash32, settings.maxNodes);
  // Counted on `metrics`, made below: no Redis call fails before the tracker's first window.
  // Loaded only in redis mode: ioredis costs ~25 MiB and ~80 ms to load.
  const fleet =
    settings.sharedState === 'redis'
      ? new (await import('./fleet-load-sync.js')).FleetLoadSync(settings, log, (use, failures) => metrics.redisErrors.inc({ use }, failures))
      : null;
  const tenants = new TenantTracker(tenantTable, settings, log, Date.now, fleet, () => performance.now());
  let current = topology.state;
  let candidatesOf = tenantCandidates(current.config, current.rings, hash32);
  warnUnverifiedTls(config.clusters, log);
  // Node host names resolved before any thread starts: threads start on their addresses.
  const resolve = createResolve(settings.dnsServers, settings.upstreamConnectTimeoutMs, FORGET_NAMES_AFTER_TTLS * settings.dnsTtlMs);
  // Made once the first names are in; told of every later move.
  let nodeMonitor: NodeMonitor | null = null;
  const names = new NameWatcher(resolve, settings.dnsTtlMs, log, (table) => {
    supervisor?.broadcast({ type: 'names', names: table });
    nodeMonitor?.namesMoved();
  });
  await names.start(nodeHostnames(config.clusters));
  // Its deadlines (a node out for its errors, slow start, a push's TTL) are durations: a step of the wall clock must not stretch them.
  nodeMonitor = new NodeMonitor(
    config,
    current.numbering,
    nodeTable,
    current.rings,
    hash32,
    log,
    () => performance.now(),
    { lookup: currentLookup(() => names.table, settings.dnsServers.length === 0 ? null : resolve), connectTimeoutMs: settings.upstreamConnectTimeoutMs, client: settings.upstreamClient },
    Date.now,
    (index) => breakerState(breakerTable, index) !== BreakerState.Closed,
  );
  nodeMonitor.settle();
  const breakers = new BreakerMonitor(config, current.numbering, breakerTable, log, () => performance.now());
  // Both exist only once the threads listen; until then the admin endpoints that need them refuse,
  // and so they do again once the gateway stops (a reload would restart what stopping stopped).
  let supervisor: Supervisor | null = null;
  let reloader: Reloader | null = null;
  let stopping = false;
  const notNow = () => ({ ok: false as const, error: stopping ? 'the gateway is stopping' : 'the gateway is still starting' });
  const accepting = (): Reloader | null => (stopping ? null : reloader);
  const controlPlane = new ControlPlane(nodeMonitor, (change) => accepting()?.pushNodes(change) ?? notNow(), nodeTable, settings.controlTtlMs, Date.now, () => performance.now(), log);
  const nodeViews = () => {
    const breakerOf = new Map(breakers.views().map(({ cluster, node, state, score, p99Ms }) => [`${cluster}/${node}`, { state, score, p99Ms }]));
    return nodeMonitor.views().map((view) => ({
      ...view,
      inFlight: inFlight(nodeTable, view.index),
      breaker: breakerOf.get(`${view.cluster}/${view.node}`) ?? null,
    }));
  };
  const tenantRows = (top: number, order: TenantOrder = 'score') => candidatesOf(tenants.top(top, order));

  const metrics = new CoordinatorMetrics(unwrapSharedTotals({
    breakers: () => breakers.views().map(({ cluster, node, state, score }) => ({ cluster, node, state: BREAKER_STATE_NAMES.indexOf(state), score })),
    breakerTransitions: () => breakers.transitions,
    idempotencyEvictions: () => idempotencyEvictions(tables.idempotency),
    rateLimitEvictions: () => limiterEvictions(tables.limiter),
    multiplexShared: () => inflightCounters(tables.inflight),
    retries: () =>
      Object.entries(current.numbering.clusters).map(([cluster, slot]) => ({ cluster, slot, inFlight: retriesInFlight(retryTable, slot), ...readRetryCounters(retryTable, slot) })),
    runningThreads: () => supervisor?.running ?? 0,
    ringPoints: () => [...current.rings].map(([cluster, ring]) => ({ cluster, points: activePointCount(ring.shared) })),
    reloads: () => ({ ok: reloader?.ok ?? 0, failed: reloader?.failed ?? 0 }),
    nodes: nodeViews,
    ringRebuilds: () => nodeMonitor.rebuilds,
    routingMode: () => controlPlane.mode,
    panicActivations: () => nodeMonitor.panicActivations,
    liveTenants: () => tenants.live,
    tenantEvictions: () => tenants.evictions,
    rebalanceEvents: () => tenants.rebalances,
    topTenants: () =>
      settings.metricsTopTenants === 0
        ? []
        : tenants.top(settings.metricsTopTenants, 'score').flatMap(({ tenant, score, k }) => (score === null ? [] : [{ tenant, score, k }])),
  }));

  const admin = await startAdminServer(
    settings.adminHost,
    settings.adminPort,
    {
      metrics: async () => metrics.render(await (supervisor?.collectMetrics() ?? Promise.resolve([]))),
      tenants: (top, order) => ({
        window: tenants.windows,
        live: tenants.live,
        untracked: tenants.untracked,
        evictions: tenants.evictions,
        rebalances: tenants.rebalances,
        ...(fleet !== null && { fleetInstances: fleet.instances }),
        tenants: tenantRows(top, order),
      }),
      nodes: () => ({ routingMode: controlPlane.mode, nodes: nodeViews() }),
      pushNodes: (body) => controlPlane.push(body),
      reload: () => accepting()?.reload() ?? notNow(),
      tenant: (id) => {
        const detail = tenants.tenant(id);
        return detail && { window: tenants.windows, ...candidatesOf([detail])[0]! };
      },
      dashboard: () =>
        readDashboard({ settings, nodeTable, controlPlane, tenants, nodeMonitor, nodes: nodeViews, tenantRows, clusterSlots: () => current.numbering.clusters, now: Date.now }),
    },
    { token: settings.adminToken, loopback: isLoopback(settings.adminHost) },
    log,
  ).catch(async (err: Error) => {
    names.stop();
    fleet?.close();
    await demo.close();
    throw err;
  });

  // Made anew for each start try, so a try on a taken port leaves nothing behind.
  const newSupervisor = (): Supervisor =>
    (supervisor = new Supervisor({
      threads: settings.threads,
      startAcceptor: settings.inlineAcceptor ? (init) => new InlineAcceptor(init) : startAcceptorThread,
      // The running topology: a thread restarted after a reload starts on the reloaded config.
      initFor: (threadIndex, port): AcceptorInit => ({
        threadIndex,
        config: current.config,
        port,
        rings: current.ringBuffers,
        ...sharedBuffers(tables),
        numbering: current.numbering,
        epoch: current.epoch,
        names: names.table,
      }),
      log,
      onRestart: () => metrics.threadRestarts.inc(),
      onExit: (threadIndex) => {
        const released = releaseThreadShares(tables, threadIndex);
        if (released > 0) log.warn({ thread: threadIndex, released }, 'released the in-flight requests of an exited acceptor thread');
      },
    }));
  let started: { supervisor: Supervisor; port: number };
  try {
    started = await listenOnAll(settings.port, settings.host, newSupervisor, log);
  } catch (err) {
    names.stop();
    fleet?.close();
    await Promise.all([admin.close(), demo.close()]);
    throw err;
  }

  const { supervisor: running, port } = started;
  const reloads = new Reloader({
    load,
    topology,
    nodeMonitor,
    demo,
    broadcast: (message) => running.broadcast(message),
    onApplied: (state) => {
      current = state;
      names.watch(nodeHostnames(state.config.clusters));
      breakers.reconfigure(state.config, state.numbering);
      candidatesOf = tenantCandidates(state.config, state.rings, hash32);
    },
    log,
  });
  reloader = reloads;
  tenants.start();
  nodeMonitor.start();
  breakers.start();
  const nodeWindows = setInterval(() => {
    const freed = topology.release(running.settledEpoch);
    if (freed > 0) log.info({ slots: freed }, 'node table slots of removed nodes freed');
    nodeMonitor.tick();
    controlPlane.tick();
    abandonStuckCalls(tables);
  }, settings.scoreWindowMs);
  nodeWindows.unref();
  return {
    config,
    port,
    adminPort: admin.port,
    reload: () => reloads.reload(),
    stop: async () => {
      stopping = true;
      tenants.stop();
      names.stop();
      clearInterval(nodeWindows);
      breakers.stop();
      await nodeMonitor.stop();
      await running.drain(settings.drainMs);
      fleet?.close();
      await Promise.all([admin.close(), demo.close()]);
    },
  };
}
