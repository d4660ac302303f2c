import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { ThreadCounts, type ThreadSnapshot } from '../metrics/retired-threads.js';
import { nextRestart } from '../resilience/restart-backoff.js';
import type { AcceptorInit, AcceptorMessage, CoordinatorMessage, MetricsSnapshot } from '../thread-protocol.js';
import type { RouteCounts } from '../metrics/route-counts.js';

/** What the supervisor needs of an acceptor: a worker_threads Worker, or the inline acceptor. */
export interface AcceptorHost {
  postMessage(message: CoordinatorMessage): void;
  terminate(): Promise<unknown>;
  on(event: 'message', listener: (message: AcceptorMessage) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'exit', listener: (exitCode: number) => void): this;
}

export interface SupervisorOptions {
  readonly threads: number;
  readonly startAcceptor: (init: AcceptorInit) => AcceptorHost;
  readonly initFor: (threadIndex: number, port: number) => AcceptorInit;
  readonly log: Logger;
  /** Called each time a dead thread is restarted (for the restart counter). */
  readonly onRestart: () => void;
  /** Called once a thread has exited (it touches shared memory no more), before any restart. */
  readonly onExit: (threadIndex: number) => void;
}

export class AcceptorStartError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface Slot {
  readonly index: number;
  worker: AcceptorHost | null;
  listening: boolean;
  deaths: number[];
  restartTimer: NodeJS.Timeout | null;
  /** The thread runs no request of a topology older than this (thread-protocol.ts 'settled'). */
  settled: number;
}

/** Time the coordinator waits for threads to exit beyond the drain deadline before giving up on them. */
const EXIT_GRACE_MS = 5_000;
const METRICS_TIMEOUT_MS = 1_000;

/**
 * Spawns the acceptor threads, restarts one that dies (with backoff), collects their metrics, and
 * drains them on shutdown. A thread is never terminate()d while it may hold uWS sockets: that
 * aborts the process. Threads close their sockets and exit by themselves when asked to drain.
 */
export class Supervisor {
  readonly #options: SupervisorOptions;
  readonly #slots: Slot[];
  readonly #metricsWaiters = new Map<number, (snapshot: ThreadSnapshot) => void>();
  readonly #counts = new ThreadCounts();
  readonly #exitWaiters = new Set<() => void>();
  #port = 0;
  #stopping = false;
  #nextRequestId = 1;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#slots = Array.from({ length: options.threads }, (_, index) => ({
      index,
      worker: null,
      listening: false,
      deaths: [],
      restartTimer: null,
      settled: 0,
    }));
  }

  /** Starts every thread on `port` and resolves once all listen. */
  async start(port: number): Promise<number> {
    this.#port = port;
    await Promise.all(this.#slots.map((slot) => this.#spawn(slot, port)));
    return port;
  }

  get running(): number {
    return this.#slots.filter((slot) => slot.listening).length;
  }

  /**
   * The oldest topology epoch any running thread may still run a request of; a thread that is
   * not running runs none (it restarts on the current topology).
   */
  get settledEpoch(): number {
    return Math.min(...this.#slots.map((slot) => (slot.worker === null ? Infinity : slot.settled)));
  }

  /** Every thread's metrics (one late to answer as it last did), and the counts of threads that exited. */
  async collectMetrics(): Promise<ThreadSnapshot[]> {
    // Read before asking: a thread that exits while this scrape waits is counted once, by its
    // answer (or its last one), and by the retired counts from the next scrape on.
    const retired = [...(await this.#counts.retired())];
    const live = this.#slots.filter((slot) => slot.listening && slot.worker !== null);
    const lastOf = new Map(live.map((slot) => [slot.index, this.#counts.lastOf(slot.index)]));
    const replies = live.map(
      (slot) =>
        new Promise<ThreadSnapshot | null>((resolve) => {
          const requestId = this.#nextRequestId++;
          const timer = setTimeout(() => {
            this.#metricsWaiters.delete(requestId);
            resolve(lastOf.get(slot.index) ?? null);
          }, METRICS_TIMEOUT_MS);
          this.#metricsWaiters.set(requestId, (snapshot) => {
            clearTimeout(timer);
            this.#counts.answered(slot.index, snapshot);
            resolve(snapshot);
          });
          this.#post(slot, { type: 'collect-metrics', requestId });
        }),
    );
    const snapshots = (await Promise.all(replies)).filter((s): s is ThreadSnapshot => s !== null);
    return [...snapshots, ...retired];
  }

  /** Every thread stops accepting, finishes its requests (up to `deadlineMs`), closes and exits. */
  async drain(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    for (const slot of this.#slots) {
      if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      this.#post(slot, { type: 'drain', deadlineMs });
    }
    const allExited = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.#slots.every((slot) => slot.worker === null)) {
          this.#exitWaiters.delete(check);
          resolve();
        }
      };
      this.#exitWaiters.add(check);
      check();
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), deadlineMs + EXIT_GRACE_MS);
    });
    const late = await Promise.race([allExited.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) this.#options.log.error({ threads: this.#slots.filter((s) => s.worker).length }, 'threads did not exit after drain');
  }

  /** Sends `message` to every thread that is running. */
  broadcast(message: CoordinatorMessage): void {
    for (const slot of this.#slots) this.#post(slot, message);
  }

  #post(slot: Slot, message: CoordinatorMessage): void {
    slot.worker?.postMessage(message);
  }

  #spawn(slot: Slot, port: number, isRestart = false): Promise<number> {
    const { log } = this.#options;
    const init = this.#options.initFor(slot.index, port);
    const worker = this.#options.startAcceptor(init);
    slot.worker = worker;
    slot.settled = init.epoch;
    return new Promise<number>((resolve, reject) => {
      let started = false;
      worker.on('message', (message: AcceptorMessage) => {
        switch (message.type) {
          case 'listening':
            started = true;
            slot.listening = true;
            resolve(message.port);
            break;
          case 'fatal':
            log.error({ thread: slot.index, code: message.code }, message.message);
            // It never opened a listen socket, so ending it cannot abort the process.
            void worker.terminate();
            if (!started) reject(new AcceptorStartError(message.code, message.message));
            break;
          case 'settled':
            if (slot.worker === worker) slot.settled = Math.max(slot.settled, message.epoch);
            break;
          case 'drained':
            log.info({ thread: slot.index, abandoned: message.abandoned }, 'acceptor drained');
            break;
          case 'metrics':
            this.#metricsWaiters.get(message.requestId)?.(threadSnapshot(message));
            this.#metricsWaiters.delete(message.requestId);
            break;
          case 'last-metrics':
            // Only while this worker is the slot's: after its exit, the slot's counts are its successor's.
            if (slot.worker === worker) this.#counts.lastWords(slot.index, threadSnapshot(message));
            break;
        }
      });
      worker.on('error', (err) => log.error({ thread: slot.index, err }, 'acceptor thread error'));
      worker.on('exit', (code) => {
        slot.worker = null;
        slot.listening = false;
        this.#counts.exited(slot.index);
        this.#options.onExit(slot.index);
        for (const waiter of [...this.#exitWaiters]) waiter();
        if (!started) {
          reject(new AcceptorStartError('ERR_ACCEPTOR_EXIT', `acceptor ${slot.index} exited with code ${code} before listening`));
        }
        // A thread that dies at start-up fails the start; one that dies later (or on restart) comes back.
        if ((started || isRestart) && !this.#stopping) this.#scheduleRestart(slot, code);
      });
    });
  }

  #scheduleRestart(slot: Slot, exitCode: number): void {
    const { delayMs, deaths } = nextRestart(slot.deaths, Date.now());
    slot.deaths = deaths;
    this.#options.log.warn({ thread: slot.index, code: 'ERR_ACCEPTOR_EXIT' satisfies ErrorCode, exitCode, restartInMs: delayMs }, 'acceptor thread died; restarting');
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.#stopping) return;
      this.#options.onRestart();
      this.#spawn(slot, this.#port, true).catch((err: Error) => {
        this.#options.log.error({ thread: slot.index, err }, 'acceptor restart failed');
      });
    }, delayMs);
  }
}

function threadSnapshot(message: { readonly metrics: MetricsSnapshot; readonly routes?: RouteCounts }): ThreadSnapshot {
  return { metrics: message.metrics, routes: message.routes ?? null };
}
