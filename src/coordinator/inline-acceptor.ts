import { EventEmitter } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { runAcceptor } from '../acceptor/acceptor.js';
import { createLogger } from '../log.js';
import type { AcceptorInit, AcceptorMessage, CoordinatorMessage } from '../thread-protocol.js';
import { widenInlining } from './acceptor-thread.js';

/**
 * GATEWAY_INLINE_ACCEPTOR: the one acceptor runs on the main thread, behind the same messages a
 * thread gets, so profilers that only see the main thread (0x, whose V8 log skips workers) see the
 * whole request path. Meant for profiling; it gives up the isolation and parallelism of threads.
 */
export class InlineAcceptor extends EventEmitter {
  readonly #channel = new MessageChannel();
  #exitCode: number | null = null;

  constructor(init: AcceptorInit) {
    super();
    const { port1, port2 } = this.#channel;
    port1.on('message', (message: AcceptorMessage) => this.emit('message', message));
    // 'close' comes after every message already sent (the acceptor's last 'drained') is delivered.
    port1.once('close', () => this.emit('exit', this.#exitCode ?? 1));
    // The profile should show the code the threads run.
    widenInlining();
    void runAcceptor(init, port2, createLogger(init.config.settings.logLevel, { thread: init.threadIndex }), (code) => this.#exit(code));
  }

  postMessage(message: CoordinatorMessage): void {
    this.#channel.port1.postMessage(message);
  }

  /** Only used on an acceptor that never listened (after `fatal`), so it holds no socket. */
  async terminate(): Promise<void> {
    this.#exit(1);
  }

  #exit(code: number): void {
    if (this.#exitCode !== null) return;
    this.#exitCode = code;
    this.#channel.port2.close();
  }
}
