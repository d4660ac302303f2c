import { performance } from 'node:perf_hooks';
import type { LookupFunction } from 'node:net';
import { request, type Pool } from 'undici';
import type { HealthCheckConfig } from '../config/schema.js';
import type { UpstreamTls } from '../config/upstream-tls-schema.js';
import { firstCheckDelay, nextCheckDelay, probeVerdict, stalledCheckDelay } from '../resilience/health-check.js';
import { createNodePool } from '../upstream/node-pool.js';

export interface ProbeTarget {
  /** The node's index in the shared node table. */
  readonly node: number;
  /** The node's origin (scheme://host:port). */
  readonly url: string;
  readonly check: HealthCheckConfig;
  /** Its cluster's TLS settings: an https node is checked as the acceptors reach it. */
  readonly tls: UpstreamTls | undefined;
}

/** How checks connect: where node host names go now, and the connect timeout. */
export interface ProbeDial {
  readonly lookup: LookupFunction | undefined;
  readonly connectTimeoutMs: number;
}

/** Who hears what the checks find. */
export interface ProbeListener {
  /** A check of node `node` passed or failed. */
  result(node: number, ok: boolean): void;
  /** A check failed `lateMs` after its deadline, the gateway stalled meanwhile: not recorded, probed again soon. */
  stalled(target: ProbeTarget, lateMs: number): void;
}

/**
 * The coordinator's active health checks: one prober for every thread, so a fleet is checked once
 * however many acceptors there are. Each node has its own timer: a random first delay, then the
 * interval plus random jitter, so checks of many nodes do not align. A check passes when the node
 * answers the path with a status in the expected range within the timeout; one that fails long
 * past its deadline, the coordinator stalled meanwhile, is repeated before it counts (probeVerdict).
 * Each check opens its own connection (no keep-alive), with the TLS settings and the resolved
 * address the acceptors use.
 */
export class HealthProber {
  /** Per node, its checks' pool, made at its first check; a restart (reload) closes them all. */
  readonly #pools = new Map<number, Pool>();
  readonly #dial: ProbeDial;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #listener: ProbeListener;
  readonly #random: () => number;
  #stopped = false;
  /** Bumped by restart(): a probe answered after it belongs to an old config and is dropped. */
  #generation = 0;

  constructor(listener: ProbeListener, dial: ProbeDial, random: () => number = Math.random) {
    this.#listener = listener;
    this.#dial = dial;
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
    this.#closePools();
    this.start(targets);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled([...this.#pools.values()].map((pool) => pool.destroy()));
    this.#pools.clear();
  }

  /** Its checks in flight finish first: a check of the old config is dropped when it answers. */
  #closePools(): void {
    for (const pool of this.#pools.values()) void pool.close();
    this.#pools.clear();
  }

  #poolOf({ node, url, tls }: ProbeTarget): Pool {
    let pool = this.#pools.get(node);
    if (pool === undefined) {
      pool = createNodePool(url, { tls, ...this.#dial }, { connections: 1, pipelining: 0 });
      this.#pools.set(node, pool);
    }
    return pool;
  }

  /** `retrying`: this check repeats one that failed with the gateway stalled (probeVerdict). */
  #schedule(target: ProbeTarget, delayMs: number, retrying = false): void {
    if (this.#stopped) return;
    const generation = this.#generation;
    const timer = setTimeout(() => {
      const started = performance.now();
      void this.#probe(target).then((ok) => {
        if (this.#stopped || generation !== this.#generation) return;
        const elapsedMs = performance.now() - started;
        const verdict = probeVerdict(ok, elapsedMs, target.check.timeoutMs, retrying);
        if (verdict === 'retry') {
          this.#listener.stalled(target, elapsedMs - target.check.timeoutMs);
          this.#schedule(target, stalledCheckDelay(this.#random), true);
          return;
        }
        this.#listener.result(target.node, verdict === 'pass');
        this.#schedule(target, nextCheckDelay(target.check, this.#random));
      });
    }, delayMs);
    timer.unref();
    this.#timers.set(target.node, timer);
  }

  async #probe(target: ProbeTarget): Promise<boolean> {
    const { url, check } = target;
    try {
      const { statusCode, body } = await request(new URL(check.path, url), {
        dispatcher: this.#poolOf(target),
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
