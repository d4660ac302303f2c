import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/coordinator/supervisor.js';
import { createLogger } from '../../src/log.js';
import type { AcceptorInit } from '../../src/thread-protocol.js';

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
});
