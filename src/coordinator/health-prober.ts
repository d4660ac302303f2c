import { performance } from 'node:perf_hooks';
import type { LookupFunction } from 'node:net';
import type { HealthCheckConfig, Settings } from '../config/schema.js';
import type { UpstreamTls } from '../config/upstream-tls-schema.js';
import { firstCheckDelay, nextCheckDelay, probeVerdict, stalledCheckDelay } from '../resilience/health-check.js';
import { upstreamError, type UpstreamDispatcher, type UpstreamHandler, type UpstreamRequest } from '../upstream/dispatcher.js';
import { createNodeDispatcher } from '../upstream/node-dispatcher.js';

export interface ProbeTarget {
  /** The node's index in the shared node table. */
  readonly node: number;
  /** The node's origin (scheme://host:port). */
  readonly url: string;
  readonly check: HealthCheckConfig;
  /** Its cluster's TLS settings: an https node is checked as the acceptors reach it. */
  readonly tls: UpstreamTls | undefined;
}

/** How checks connect: where node host names go now, the connect timeout, and the acceptors' client. */
export interface ProbeDial {
  readonly lookup: LookupFunction | undefined;
  readonly connectTimeoutMs: number;
  readonly client: Settings['upstreamClient'];
}

/** Who hears what the checks find. */
export interface ProbeListener {
  /** A check of node `node` passed or failed. */
  result(node: number, ok: boolean): void;
  /** A check failed `lateMs` after its deadline, the gateway stalled meanwhile: not recorded, probed again soon. */
  stalled(target: ProbeTarget, lateMs: number): void;
}

/** A node's checks: the request every check sends, made once, and the pool made at the first. */
interface NodeChecks {
  readonly target: ProbeTarget;
  readonly request: UpstreamRequest;
  pool: UpstreamDispatcher | null;
}

/** The request of every check of `target`: its path as a URL resolves it, the node's host, and a close unless connections are reused. */
function checkRequest({ url, check }: ProbeTarget): UpstreamRequest {
  // After the origin, not resolved against it: "//x" or "/\\x" would name another host (or throw).
  const resolved = new URL(new URL(url).origin + check.path);
  const headers = ['host', resolved.host];
  if (!check.reuseConnection) headers.push('connection', 'close');
  return { path: resolved.pathname + resolved.search, method: 'GET', headers, body: null };
}

/**
 * The coordinator's active health checks: one prober for every thread, so a fleet is checked once
 * however many acceptors there are. Each node has its own timer: a random first delay, then the
 * interval plus random jitter, so checks of many nodes do not align. A check passes when the node
 * answers the path with a status in the expected range within the timeout; one that fails long
 * past its deadline, the coordinator stalled meanwhile, is repeated before it counts (probeVerdict).
 * Checks reach a node as the acceptors do: the same client (the gateway's own for plain http),
 * TLS settings and resolved address. A check keeps its connection for the next one while the node
 * keeps it open (`reuseConnection`, Envoy's default; a new connection for each check costs the
 * coordinator twice the CPU, on the core an acceptor may share); with `reuseConnection: false`
 * each check opens its own and asks the node to close it.
 */
export class HealthProber {
  /** Per node, what its checks send and their pool; a restart (reload) closes the pools. */
  readonly #checks = new Map<number, NodeChecks>();
  readonly #dial: ProbeDial;
  readonly #timers = new Map<number, NodeJS.Timeout>();
  readonly #listener: ProbeListener;
  readonly #random: () => number;
  #stopped = false;

  constructor(listener: ProbeListener, dial: ProbeDial, random: () => number = Math.random) {
    this.#listener = listener;
    this.#dial = dial;
    this.#random = random;
  }

  start(targets: readonly ProbeTarget[]): void {
    for (const target of targets) {
      this.#checks.set(target.node, { target, request: checkRequest(target), pool: null });
      this.#schedule(target, firstCheckDelay(target.check, this.#random));
    }
  }

  /**
   * After a reload or a push: checks for `targets` from now on. A node checked as before keeps its
   * schedule, connection and check in flight (a controller adding nodes every few seconds must
   * not keep restarting every other node's checks); one checked otherwise, or no longer, has its
   * check in flight dropped when it answers and its connection closed once it did.
   */
  restart(targets: readonly ProbeTarget[]): void {
    const fresh = new Map(targets.map((target) => [target.node, target]));
    for (const [node, checks] of this.#checks) {
      const target = fresh.get(node);
      if (target !== undefined && sameTarget(checks.target, target)) {
        fresh.delete(node);
        continue;
      }
      clearTimeout(this.#timers.get(node));
      this.#timers.delete(node);
      void checks.pool?.close();
      this.#checks.delete(node);
    }
    this.start([...fresh.values()]);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    const pools = [...this.#checks.values()].flatMap(({ pool }) => (pool === null ? [] : [pool]));
    this.#checks.clear();
    await Promise.allSettled(pools.map((pool) => pool.destroy()));
  }

  /**
   * Node host names now resolve to other addresses: a kept connection may still go to an old one,
   * so every node's next check connects anew (one in flight finishes on its connection first).
   */
  reconnect(): void {
    for (const checks of this.#checks.values()) {
      void checks.pool?.close();
      checks.pool = null;
    }
  }

  #poolOf(checks: NodeChecks): UpstreamDispatcher {
    const { url, tls, check } = checks.target;
    checks.pool ??= createNodeDispatcher(url, this.#dial.client, { tls, lookup: this.#dial.lookup, connectTimeoutMs: this.#dial.connectTimeoutMs }, { connections: 1, timeoutMs: check.timeoutMs });
    return checks.pool;
  }

  /** `retrying`: this check repeats one that failed with the gateway stalled (probeVerdict). */
  #schedule(target: ProbeTarget, delayMs: number, retrying = false): void {
    if (this.#stopped) return;
    // A restart that checks the node otherwise, or no more, replaces or drops its entry: what this
    // schedule finds then belongs to the old config.
    const checks = this.#checks.get(target.node);
    const timer = setTimeout(() => {
      const started = performance.now();
      void this.#probe(target).then((ok) => {
        if (this.#stopped || this.#checks.get(target.node) !== checks) return;
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

  /**
   * One check: passes when the node's whole answer comes within the timeout with a status in the
   * expected range. The deadline is the check's own, connecting included.
   */
  #probe(target: ProbeTarget): Promise<boolean> {
    const checks = this.#checks.get(target.node);
    if (checks === undefined) return Promise.resolve(false);
    const { timeoutMs, expectedStatus } = target.check;
    return new Promise((resolve) => {
      let status = 0;
      let abort: ((err?: Error) => void) | null = null;
      let settled = false;
      const settle = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(ok);
      };
      const deadline = setTimeout(() => {
        settle(false);
        abort?.(upstreamError('UND_ERR_ABORTED', 'the health check timed out'));
      }, timeoutMs);
      deadline.unref();
      const handler: UpstreamHandler = {
        // Past its deadline before it got a connection: it goes no further.
        get wanted() {
          return !settled;
        },
        onConnect: (abortCheck) => {
          if (settled) return false;
          abort = abortCheck;
          return true;
        },
        onHeaders: (statusCode) => {
          status = statusCode;
          return true;
        },
        onData: () => true,
        onComplete: () => settle(status >= expectedStatus.min && status <= expectedStatus.max),
        onError: () => settle(false),
      };
      try {
        this.#poolOf(checks).dispatch(checks.request, handler);
      } catch {
        // A pool that cannot be made for this origin: the check fails, as any other would.
        settle(false);
      }
    });
  }
}

/** Checked as before: the same url, check and TLS settings (a reload parses them anew, so by value). */
function sameTarget(a: ProbeTarget, b: ProbeTarget): boolean {
  return a.url === b.url && JSON.stringify(a.check) === JSON.stringify(b.check) && (a.tls === b.tls || JSON.stringify(a.tls) === JSON.stringify(b.tls));
}
