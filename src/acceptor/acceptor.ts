import type { us_listen_socket } from 'uWebSockets.js';
import { IDEMPOTENCY_KEY_SEED, loadBytesDigest, loadHash32, loadSeededHash32, loadTenantKeyer } from '../hash.js';
import { attachIdempotencyTable } from '../shm/idempotency-table.js';
import { LocalIdempotencyStore } from './idempotency-store.js';
import { LocalBatches } from './local-batches.js';
import { SharedCalls } from './shared-calls.js';
import { attachLimiterTable } from '../shm/limiter-table.js';
import { attachInflightTable } from '../shm/inflight-table.js';
import { RequestRecorder } from '../metrics/request-recorder.js';
import { ZoneCrossings } from '../metrics/zone-crossings.js';
import { ThreadRuntimeMetrics } from '../metrics/runtime-metrics.js';
import { routeLabel } from '../routing/route-table.js';
import { attachNodeTable } from '../shm/node-table.js';
import { attachTenantTable } from '../shm/tenant-table.js';
import { attachBreakerTable } from '../shm/breaker-table.js';
import { attachRetryTable } from '../shm/retry-table.js';
import type { AcceptorInit, AcceptorMessage, CoordinatorMessage } from '../thread-protocol.js';
import { composeRunner, type ThreadState } from './compose.js';
import { Finisher } from './phases/finish.js';
import { GATEWAY_ROUTE_LABELS } from './request-runner.js';
import { UpstreamPools } from './upstream-pools.js';
import { configUsesUndici, loadUndici, undiciLoaded } from '../upstream/undici-loader.js';
import { loadUws, newApp, type UwsApp } from './uws.js';
import { IdleScavenger } from './idle-scavenge.js';
import { closeConnectionsFromNowOn, cutConnections, KEYED_READ_ON_MS } from './thread-drain.js';
import type { Logger } from '../log.js';
import type { Redis } from 'ioredis';
import { RedisOutage } from '../redis/outage.js';
import { SlidingWindowScript } from '../redis/rate-limit-script.js';
import { IdempotencyScripts } from '../redis/idempotency-scripts.js';
import { RedisIdempotencyStore } from './redis-idempotency-store.js';
import { AccessLog } from './access-log.js';
import { observing } from './request-observer.js';
import type { RequestTracing } from '../tracing/request-tracing.js';

/** The acceptor's end of its channel to the coordinator: parentPort in a thread, a MessagePort inline. */
export interface CoordinatorLink {
  postMessage(message: AcceptorMessage): void;
  on(event: 'message', listener: (message: CoordinatorMessage) => void): unknown;
}

/** How long a drained thread waits for Redis to answer its last calls before it lets the connection go. */
const REDIS_CLOSE_MS = 1000;

export interface RunningAcceptor {
  /** Closes the listen socket and every connection: a thread must hold no uWS socket when it ends. */
  closeSockets(): void;
  /**
   * The thread dies of an uncaught error: the access log's queued lines are written out now
   * (synchronously) and the coordinator is sent what the thread counted since its last scrape.
   */
  lastWords(): void;
}

/**
 * One acceptor: its own uWS App on the shared port (the kernel spreads connections with
 * SO_REUSEPORT), doing the whole request. Talks to the coordinator only for lifecycle, reloads and
 * metrics.
 * `exit` ends the acceptor once its sockets are closed. Resolves to null when it could not start
 * (the coordinator has been sent a `fatal` message).
 */
export async function runAcceptor(init: AcceptorInit, link: CoordinatorLink, log: Logger, exit: (code: number) => void): Promise<RunningAcceptor | null> {
  const { settings } = init.config;
  const send = (message: AcceptorMessage): void => link.postMessage(message);
  let app: UwsApp | null = null;
  let listenSocket: us_listen_socket | null = null;
  let closing = false;
  let redis: Redis | null = null;
  let tracing: RequestTracing | null = null;

  try {
    const uws = loadUws(settings.allowUwsFallback);
    const recorder = new RequestRecorder([...init.config.routes.map(routeLabel), ...GATEWAY_ROUTE_LABELS], init.threadIndex);
    const crossings = new ZoneCrossings(settings.zone ?? '');
    // The inline acceptor shares the main thread: the coordinator exports its runtime already.
    const runtime = settings.inlineAcceptor ? null : new ThreadRuntimeMetrics(init.threadIndex);
    const tenants = attachTenantTable(init.tenants, init.threadIndex);
    const nodes = attachNodeTable(init.nodes);
    const breakers = attachBreakerTable(init.breakers);
    const retries = attachRetryTable(init.retries);
    const redisOutage = settings.rateLimitMode === 'redis' || settings.sharedState === 'redis' ? new RedisOutage(log, (use, requests) => recorder.recordRedisError(use, requests)) : null;
    // Loaded only in a redis mode: ioredis costs ~25 MiB and ~80 ms per thread that loads it.
    const redisConnection = redisOutage === null ? null : await import('../redis/connection.js');
    redis = redisConnection?.connectRedis(settings, redisOutage!, `ringgate-acceptor-${init.threadIndex}`) ?? null;
    const localKeys = new LocalIdempotencyStore(attachIdempotencyTable(init.idempotency, init.threadIndex), init.threadIndex, settings.idempotencyTtlMs);
    const idempotency =
      redis !== null && settings.sharedState === 'redis' ? new RedisIdempotencyStore(settings, new IdempotencyScripts(redis), localKeys, redisOutage!) : localKeys;
    // One hasher for the thread's tables: every use of it is synchronous, so the phases can share it.
    const keyer = await loadTenantKeyer(init.keySeed);
    // Loaded only with tracing on: a gateway without it never loads the OpenTelemetry SDK.
    tracing = init.config.tracing === null ? null : (await import('../tracing/thread-tracing.js')).startThreadTracing(init.config.tracing, log);
    // Loaded only once a node needs it (undici-loader.ts): plain-http nodes use the gateway's own client.
    if (configUsesUndici(init.config)) await loadUndici();
    const accessLog = settings.accessLog === 'off' ? null : new AccessLog(settings, log);
    const observer = observing(accessLog, tracing);
    const settled = (epoch: number): void => send({ type: 'settled', epoch });
    const finisher = new Finisher(recorder, crossings, { tenants, nodes, breakers, retries, idempotency }, init.threadIndex, observer, settled);
    if (settings.acceptorIdleScavengePercent > 0) {
      const scavenger = new IdleScavenger(settings.acceptorIdleScavengePercent, () => finisher.open);
      finisher.idleListener = (now) => scavenger.idle(now);
    }
    const thread: ThreadState = {
      // This thread's lane in the node table is its index: a restarted thread takes the lane back empty.
      lane: init.threadIndex,
      hash32: await loadHash32(),
      keyer,
      idempotencyKeyer: await loadTenantKeyer(IDEMPOTENCY_KEY_SEED),
      digest: await loadBytesDigest(),
      idempotency,
      limiter: attachLimiterTable(init.limiter, init.threadIndex),
      tenants,
      nodes,
      breakers,
      retries,
      pools: new UpstreamPools(settings, init.names, (then) => finisher.afterOpenEnd(then)),
      recorder,
      crossings,
      finisher,
      observer,
      batches: new LocalBatches(
        recorder,
        finisher,
        // One acceptor has no other thread to share a call with: its reads skip the shared table.
        settings.threads > 1
          ? new SharedCalls(attachInflightTable(init.inflight, init.threadIndex), init.threadIndex, keyer, recorder, finisher, settings.upstreamTimeoutMs + 1000)
          : null,
        await loadSeededHash32(),
        settings.multiplexMaxResponseBytes,
      ),
      redisLimits: redis !== null && settings.rateLimitMode === 'redis' ? new SlidingWindowScript(redis) : null,
      redisOutage,
      tracing,
    };
    const { pools } = thread;
    let runner = composeRunner(init.config, init.rings, init.numbering, thread);

    app = newApp(uws);
    // Through `runner`, so that a reload swaps the whole request path between two requests.
    app.any('/*', (res, req) => runner.handle(res, req));
    app.listen(settings.host, init.port, (socket) => {
      if (!socket) {
        send({ type: 'fatal', code: 'ERR_LISTEN', message: `cannot listen on ${settings.host}:${init.port}` });
        return;
      }
      listenSocket = socket;
      send({ type: 'listening', port: uws.us_socket_local_port(socket as never) });
    });

    const closeSockets = (): void => {
      if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
      listenSocket = null;
      app?.close();
    };

    const onMessage = (message: CoordinatorMessage): void => {
      if (message.type === 'reload') {
        runner = composeRunner(message.config, message.rings, message.numbering, thread);
        finisher.newEpoch(message.epoch);
      } else if (message.type === 'names') {
        pools.readdress(message.names);
      } else if (message.type === 'collect-metrics') {
        const { requestId } = message;
        // Runtime metrics that fail to read leave out only themselves, never the thread.
        void (runtime?.snapshot() ?? Promise.resolve([]))
          .catch(() => [])
          .then((own) => send({ type: 'metrics', requestId, metrics: [...recorder.snapshot(), ...crossings.snapshot(), ...own], routes: recorder.routeCounts() }));
      } else if (message.type === 'drain' && !closing) {
        closing = true;
        closeConnectionsFromNowOn();
        // Stop accepting; requests already accepted finish, up to the deadline.
        if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
        listenSocket = null;
        /** The requests still open at the deadline; -1 before it. */
        let abandoned = -1;
        let closed = false;
        let readOn: NodeJS.Timeout | undefined;
        const close = (): void => {
          if (closed) return;
          closed = true;
          clearTimeout(readOn);
          // The last lines of the access log, the last spans, and the last answers to Redis (an
          // idempotency key's completion) leave before the thread does.
          // The pools first: the requests their destroy fails (a keyed write still read on after its
          // client was cut) end before the access log, the spans and Redis close.
          void pools
            .close()
            .then(() => Promise.all([observer?.close(), redis === null ? undefined : redisConnection!.closeRedis(redis, REDIS_CLOSE_MS)]))
            .finally(() => {
              send({ type: 'drained', abandoned });
              exit(0);
            });
        };
        const cut = (): void => {
          if (abandoned >= 0) return;
          abandoned = finisher.open;
          clearTimeout(deadline);
          finisher.cutOpenRequests();
          cutConnections();
          closeSockets();
          // A keyed write its connection has not written yet does not start now: it fails unsent, its key let go.
          pools.cutUnwritten();
          // What is still open reads its answer on for someone (a keyed write for its key: thread-drain.ts):
          // the nodes' connections close once it ends, or KEYED_READ_ON_MS from now.
          if (finisher.open === 0) close();
          else readOn = setTimeout(close, KEYED_READ_ON_MS);
        };
        const deadline = setTimeout(cut, message.deadlineMs);
        // No request open: before the deadline, the drain is over; after it, the last answer read on has ended.
        finisher.startDrain(() => (abandoned < 0 ? cut() : close()));
      }
    };
    // A reload that first needs undici waits for it to load, and the messages after it wait behind
    // it, in order. Should loading fail, the rejection ends the thread (worker.ts) and its restart
    // reports why.
    let held: CoordinatorMessage[] | null = null;
    link.on('message', (message) => {
      if (held !== null) return void held.push(message);
      if (message.type !== 'reload' || undiciLoaded() || !configUsesUndici(message.config)) return onMessage(message);
      held = [message];
      void loadUndici().then(() => {
        const waiting = held!;
        held = null;
        for (const next of waiting) onMessage(next);
      });
    });
    const lastWords = (): void => {
      accessLog?.lastLines();
      send({ type: 'last-metrics', metrics: [...recorder.snapshot(), ...crossings.snapshot()], routes: recorder.routeCounts() });
    };
    return { closeSockets, lastWords };
  } catch (err) {
    // Inline, the process lives on: a connection left would reconnect for good.
    redis?.disconnect();
    void tracing?.close();
    const { code, message } = err as { code?: unknown; message: string };
    send({ type: 'fatal', code: code === 'ERR_UWS_FALLBACK' ? code : 'ERR_ACCEPTOR_START', message });
    return null;
  }
}
