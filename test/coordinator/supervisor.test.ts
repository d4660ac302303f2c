import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Supervisor, type AcceptorHost } from '../../src/coordinator/supervisor.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { AcceptorInit, CoordinatorMessage, MetricsSnapshot } from '../../src/thread-protocol.js';
import type { ThreadSnapshot } from '../../src/metrics/retired-threads.js';

/** An acceptor that answers scrapes with `snapshot`, after `delayMs`, then exits if `exitAfterAnswer`. */
class ScriptedAcceptor extends EventEmitter implements AcceptorHost {
  constructor(
    port: number,
    readonly snapshot: MetricsSnapshot,
    readonly delayMs: number,
    readonly exitAfterAnswer: boolean,
  ) {
    super();
    setImmediate(() => this.emit('message', { type: 'listening', port }));
  }

  postMessage(message: CoordinatorMessage): void {
    if (message.type === 'drain') setImmediate(() => this.emit('exit', 0));
    if (message.type !== 'collect-metrics') return;
    setTimeout(() => {
      this.emit('message', { type: 'metrics', requestId: message.requestId, metrics: this.snapshot });
      if (this.exitAfterAnswer) setImmediate(() => this.emit('exit', 1));
    }, this.delayMs);
  }

  terminate(): Promise<number> {
    return Promise.resolve(0);
  }
}

const counted = (value: number): MetricsSnapshot => [{ name: 'ringgate_test_total', help: 'test', type: 'counter', aggregator: 'sum', values: [{ labels: {}, value }] }];
const total = (snapshots: ThreadSnapshot[]): number => snapshots.flatMap((s) => s.metrics).filter((f) => f.name === 'ringgate_test_total').reduce((sum, f) => sum + f.values.reduce((s, v) => s + v.value, 0), 0);

describe('supervisor', () => {
  it('restarts a thread that dies, counts the restart, and drains the rest', async () => {
    const starts = new Int32Array(new SharedArrayBuffer(4));
    let restarts = 0;
    const exits: number[] = [];
    const supervisor = new Supervisor({
      threads: 2,
      startAcceptor: (init) => new Worker(new URL('../fixtures/dying-acceptor.mjs', import.meta.url), { workerData: init }),
      initFor: (threadIndex, port) => ({ threadIndex, port, starts }) as unknown as AcceptorInit,
      log: createLogger('silent'),
      onRestart: () => restarts++,
      onExit: (threadIndex) => exits.push(threadIndex),
    });
    expect(await supervisor.start(4321)).toBe(4321);
    await expect.poll(() => restarts, { timeout: 5_000 }).toBe(1);
    await expect.poll(() => supervisor.running, { timeout: 5_000 }).toBe(2);
    expect(Atomics.load(starts, 0)).toBe(3);
    // The first thread to start died once; the coordinator heard of it before restarting it.
    expect(exits).toHaveLength(1);
    await supervisor.drain(1_000);
    expect(supervisor.running).toBe(0);
    expect(restarts).toBe(1);
    // Every exit is heard of: the restarted thread's twice, the other's once, at the drain.
    expect(exits).toHaveLength(3);
    expect([...new Set(exits)].sort()).toEqual([0, 1]);
    expect(exits.filter((thread) => thread === exits[0])).toHaveLength(2);
  });

  it('logs a running thread that dies with ERR_ACCEPTOR_EXIT, as the README\'s error table says', async () => {
    const warnings: Record<string, unknown>[] = [];
    const log = { warn: (fields: Record<string, unknown>) => warnings.push(fields), error: () => {}, info: () => {} } as unknown as Logger;
    let started = 0;
    const supervisor = new Supervisor({
      threads: 1,
      // The first thread dies once it answered a scrape; its successor stays.
      startAcceptor: (init) => new ScriptedAcceptor(init.port, counted(0), 0, started++ === 0),
      initFor: (threadIndex, port) => ({ threadIndex, port }) as unknown as AcceptorInit,
      log,
      onRestart: () => {},
      onExit: () => {},
    });
    await supervisor.start(4321);
    await supervisor.collectMetrics();
    await expect.poll(() => warnings.length, { timeout: 5_000 }).toBe(1);
    expect(warnings[0]).toMatchObject({ thread: 0, code: 'ERR_ACCEPTOR_EXIT', exitCode: 1 });
    await supervisor.drain(1_000);
  });

  it("counts a thread that exits while a scrape waits for the others once, then keeps its counts: the sum never goes back", async () => {
    let started = 0;
    const supervisor = new Supervisor({
      threads: 2,
      // Thread 0 answers at once and then dies; thread 1 answers late; a restarted thread has counted nothing.
      startAcceptor: (init) => (started++ < 2 ? new ScriptedAcceptor(init.port, counted(init.threadIndex === 0 ? 5 : 7), init.threadIndex === 0 ? 0 : 50, init.threadIndex === 0) : new ScriptedAcceptor(init.port, counted(0), 0, false)),
      initFor: (threadIndex, port) => ({ threadIndex, port }) as unknown as AcceptorInit,
      log: createLogger('silent'),
      onRestart: () => {},
      onExit: () => {},
    });
    await supervisor.start(4321);
    expect(total(await supervisor.collectMetrics())).toBe(12);
    await expect.poll(() => supervisor.running, { timeout: 5_000 }).toBe(2);
    expect(total(await supervisor.collectMetrics())).toBe(12);
    await supervisor.drain(1_000);
  });
});
