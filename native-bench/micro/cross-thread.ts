import { Worker } from 'node:worker_threads';
import type { MicroSuite } from './suite.js';

/**
 * The cost of handing work to another thread: a postMessage round trip (what forwarding a request
 * to a "request worker" costs twice), against reading a counter the other thread keeps in shared
 * memory (what acceptors and coordinator do instead).
 */
const ECHO_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const counters = new Int32Array(workerData);
parentPort.on('message', (m) => { Atomics.add(counters, 0, 1); parentPort.postMessage(m); });
`;

export async function crossThreadSuite(batch: number): Promise<MicroSuite & { close(): Promise<void> }> {
  const shared = new SharedArrayBuffer(8);
  const counters = new Int32Array(shared);
  const worker = new Worker(ECHO_WORKER, { eval: true, workerData: shared });
  await new Promise((resolve) => worker.once('online', resolve));
  let sink = 0;
  const message = { type: 'request', tenant: 'acme', path: '/api/v2/accounts/1' };
  return {
    title: 'Crossing threads (per operation)',
    tasks: [
      {
        name: 'postMessage round trip to a worker thread (small object)',
        run: () =>
          new Promise<void>((resolve) => {
            worker.once('message', () => resolve());
            worker.postMessage(message);
          }),
        batch: 1,
      },
      {
        name: 'Atomics.load of a counter another thread updates',
        run: () => {
          for (let i = 0; i < batch; i++) sink += Atomics.load(counters, 0);
        },
      },
    ],
    close: async () => {
      if (sink < 0) throw new Error('unreachable: keeps the loop from being optimised away');
      await worker.terminate();
    },
  };
}
