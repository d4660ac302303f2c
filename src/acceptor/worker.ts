import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log.js';
import type { AcceptorInit } from '../thread-protocol.js';
import { runAcceptor } from './acceptor.js';

/** Entry of an acceptor thread. */
const init = workerData as AcceptorInit;
const log = createLogger(init.config.settings.logLevel, { thread: init.threadIndex });
const acceptor = await runAcceptor(init, parentPort!, log, (code) => process.exit(code));

process.on('uncaughtException', (err) => {
  // First: a thread that ends with any uWS socket open aborts the whole process.
  acceptor?.closeSockets();
  log.fatal({ err }, 'acceptor thread failed; its sockets closed so that the coordinator can restart it');
  try {
    acceptor?.lastWords();
  } catch {
    // Dying anyway: what could not be said is lost, as before.
  }
  process.exit(1);
});
