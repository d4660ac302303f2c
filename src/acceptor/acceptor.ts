import type { us_listen_socket } from 'uWebSockets.js';
import { loadHash32, loadTenantKeyer } from '../hash.js';
import { RequestRecorder } from '../metrics/request-recorder.js';
import { otherZones, ZoneCrossings } from '../metrics/zone-crossings.js';
import { attachSharedRing } from '../shm/ring-buffer.js';
import { attachNodeTable } from '../shm/node-table.js';
import { attachTenantTable } from '../shm/tenant-table.js';
import type { AcceptorInit, AcceptorMessage, CoordinatorMessage } from '../thread-protocol.js';
import { compileRoutes } from '../routing/route-table.js';
import { CrashingForwarder } from './fault-injection.js';
import { Admission } from './phases/admit.js';
import { Finisher } from './phases/finish.js';
import { Forwarder } from './phases/forward.js';
import { Selection } from './phases/select.js';
import { RequestRunner, routeMetricLabels } from './request-runner.js';
import { compileRoutePlans } from './route-plans.js';
import { UpstreamPools } from './upstream-pools.js';
import { loadUws, type UwsApp } from './uws.js';

/** The acceptor's end of its channel to the coordinator: parentPort in a thread, a MessagePort inline. */
export interface CoordinatorLink {
  postMessage(message: AcceptorMessage): void;
  on(event: 'message', listener: (message: CoordinatorMessage) => void): unknown;
}

export interface RunningAcceptor {
  /** Closes the listen socket and every connection: a thread must hold no uWS socket when it ends. */
  closeSockets(): void;
}

/**
 * One acceptor: its own uWS App on the shared port (the kernel spreads connections with
 * SO_REUSEPORT), doing the whole request. Talks to the coordinator only for lifecycle and metrics.
 * `exit` ends the acceptor once its sockets are closed. Resolves to null when it could not start
 * (the coordinator has been sent a `fatal` message).
 */
export async function runAcceptor(init: AcceptorInit, link: CoordinatorLink, exit: (code: number) => void): Promise<RunningAcceptor | null> {
  const { settings } = init.config;
  const send = (message: AcceptorMessage): void => link.postMessage(message);
  let app: UwsApp | null = null;
  let listenSocket: us_listen_socket | null = null;
  let closing = false;

  try {
    const uws = loadUws(settings.allowUwsFallback);
    const hash32 = await loadHash32();
    const rings = new Map(Object.entries(init.rings).map(([name, buffer]) => [name, attachSharedRing(buffer)]));
    const pools = new UpstreamPools(init.config);
    const recorder = new RequestRecorder(routeMetricLabels(init.config), init.threadIndex);
    const tenants = attachTenantTable(init.tenants);
    const nodes = attachNodeTable(init.nodes);
    const routes = compileRoutes(init.config.routes);
    const zones = otherZones(init.config);
    const plans = compileRoutePlans(init.config, routes, rings, pools, nodes, init.numbering, zones);
    const crossings = new ZoneCrossings(settings.zone ?? '', zones);
    // This thread's lane in the node table is its index: a restarted thread takes the lane back empty.
    const finisher = new Finisher(recorder, crossings, tenants, nodes, init.threadIndex);
    const runner = new RequestRunner(
      {
        admission: new Admission(settings, routes, plans, tenants, await loadTenantKeyer()),
        selection: new Selection(settings, hash32, tenants, nodes, init.threadIndex),
        forwarder: settings.faultInjection ? new CrashingForwarder(settings, finisher) : new Forwarder(settings, finisher),
        finisher,
      },
      init.config.routes.length,
    );

    app = uws.App() as UwsApp;
    app.any('/*', runner.handle);
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

    link.on('message', (message) => {
      if (message.type === 'collect-metrics') {
        send({ type: 'metrics', requestId: message.requestId, metrics: [...recorder.snapshot(), ...crossings.snapshot()] });
      } else if (message.type === 'drain' && !closing) {
        closing = true;
        // Stop accepting; requests already accepted finish, up to the deadline.
        if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
        listenSocket = null;
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          const abandoned = finisher.open;
          clearTimeout(deadline);
          closeSockets();
          void pools.close().finally(() => {
            send({ type: 'drained', abandoned });
            exit(0);
          });
        };
        const deadline = setTimeout(finish, message.deadlineMs);
        finisher.startDrain(finish);
      }
    });
    return { closeSockets };
  } catch (err) {
    const { code, message } = err as { code?: unknown; message: string };
    send({ type: 'fatal', code: code === 'ERR_UWS_FALLBACK' ? code : 'ERR_ACCEPTOR_START', message });
    return null;
  }
}
