import { parentPort, workerData } from 'node:worker_threads';
import type { us_listen_socket } from 'uWebSockets.js';
import { loadHash32 } from '../hash.js';
import { createLogger } from '../log.js';
import { RequestRecorder } from '../metrics/request-recorder.js';
import { attachSharedRing } from '../shm/ring-buffer.js';
import type { AcceptorInit, AcceptorMessage, CoordinatorMessage } from '../thread-protocol.js';
import { Pipeline, routeMetricLabels } from './pipeline.js';
import { UpstreamPools } from './upstream-pools.js';
import { loadUws, type UwsApp } from './uws.js';

/**
 * Acceptor thread: its own uWS App on the shared port (the kernel spreads connections with
 * SO_REUSEPORT), doing the whole request. Talks to the coordinator only for lifecycle and metrics.
 */
const init = workerData as AcceptorInit;
const port = parentPort!;
const { settings } = init.config;
const log = createLogger(settings.logLevel, { thread: init.threadIndex });
const send = (message: AcceptorMessage): void => port.postMessage(message);

let app: UwsApp | null = null;
let listenSocket: us_listen_socket | null = null;
let closing = false;

try {
  const uws = loadUws(settings.allowUwsFallback);
  const hash32 = await loadHash32();
  const rings = new Map(Object.entries(init.rings).map(([name, buffer]) => [name, attachSharedRing(buffer)]));
  const pools = new UpstreamPools(init.config);
  const recorder = new RequestRecorder(routeMetricLabels(init.config), init.threadIndex);
  const pipeline = new Pipeline(init.config, rings, pools, hash32, recorder);

  app = uws.App() as UwsApp;
  app.any('/*', pipeline.handle);
  app.listen(settings.host, init.port, (socket) => {
    if (!socket) {
      send({ type: 'fatal', code: 'ERR_LISTEN', message: `cannot listen on ${settings.host}:${init.port}` });
      return;
    }
    listenSocket = socket;
    send({ type: 'listening', port: uws.us_socket_local_port(socket as never) });
  });

  const closeAll = (): void => {
    if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
    listenSocket = null;
    app?.close();
  };

  port.on('message', (message: CoordinatorMessage) => {
    if (message.type === 'collect-metrics') {
      send({ type: 'metrics', requestId: message.requestId, metrics: recorder.snapshot() });
    } else if (message.type === 'drain' && !closing) {
      closing = true;
      // Stop accepting; requests already accepted finish, up to the deadline.
      if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
      listenSocket = null;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        const abandoned = pipeline.inFlight;
        clearTimeout(deadline);
        // A thread that ends with any uWS socket open aborts the process: close them all first.
        closeAll();
        void pools.close().finally(() => {
          send({ type: 'drained', abandoned });
          process.exit(0);
        });
      };
      const deadline = setTimeout(finish, message.deadlineMs);
      pipeline.startDrain(finish);
    }
  });

  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'acceptor thread failed; closing its sockets so the coordinator can restart it');
    closeAll();
    process.exit(1);
  });
} catch (err) {
  const { code = 'ERR_ACCEPTOR_START', message } = err as { code?: string; message: string };
  send({ type: 'fatal', code, message });
}
