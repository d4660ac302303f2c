import { Agent, request } from 'undici';
import type { HealthCheckConfig } from '../config/schema.js';
import { firstCheckDelay, nextCheckDelay } from '../resilience/health-check.js';

export interface ProbeTarget {
  /** The node's index in the shared node table. */
  readonly node: number;
  /** The node's origin (scheme://host:port). */
  readonly url: string;
  readonly check: HealthCheckConfig;
}

/**
 * The coordinator's active health checks: one prober for every thread, so a fleet is checked once
 * however many acceptors there are. Each node has its own timer: a random first delay, then the
 * interval plus random jitter, so checks of many nodes do not align. A check passes when the node
 * answers the path with a status in the expected range within the timeout.
 */
export class HealthProber {
  readonly #agent = new Agent({ connections: 1, pipelining: 0 });
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #onResult: (node: number, ok: boolean) => void;
  readonly #random: () => number;
  #stopped = false;
  /** Bumped by restart(): a probe answered after it belongs to an old config and is dropped. */
  #generation = 0;

  constructor(onResult: (node: number, ok: boolean) => void, random: () => number = Math.random) {
    this.#onResult = onResult;
    this.#random = random;
  }

  start(targets: readonly ProbeTarget[]): void {
    for (const target of targets) this.#schedule(target, firstCheckDelay(target.check, this.#random));
  }

  /** After a reload: checks for `targets` from now on, none for nodes no longer configured. */
  restart(targets: readonly ProbeTarget[]): void {
    this.#generation++;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.start(targets);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#agent.destroy();
  }

  #schedule(target: ProbeTarget, delayMs: number): void {
    if (this.#stopped) return;
    const generation = this.#generation;
    const timer = setTimeout(() => {
      void this.#probe(target).then((ok) => {
        if (this.#stopped || generation !== this.#generation) return;
        this.#onResult(target.node, ok);
        this.#schedule(target, nextCheckDelay(target.check, this.#random));
      });
    }, delayMs);
    timer.unref();
    this.#timers.set(target.node, timer);
  }

  async #probe({ url, check }: ProbeTarget): Promise<boolean> {
    try {
      const { statusCode, body } = await request(new URL(check.path, url), {
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(check.timeoutMs),
        headersTimeout: check.timeoutMs,
        bodyTimeout: check.timeoutMs,
      });
      await body.dump();
      return statusCode >= check.expectedStatus.min && statusCode <= check.expectedStatus.max;
    } catch {
      return false;
    }
  }
}
