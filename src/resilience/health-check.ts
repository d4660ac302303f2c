/**
 * Active health checks, the pure part: when to probe a node next and what a run of probe results
 * means. The prober (timers, sockets, timeout, expected status range) lives with the coordinator
 * and feeds each result to `ActiveHealth.record`.
 *
 * Thresholds on consecutive results, as in Envoy: one lost probe does not take a node out of the
 * ring, and one lucky probe does not put a flapping node back.
 */
export interface ActiveCheckPolicy {
  /** Time between two checks of one node, before jitter. */
  readonly intervalMs: number;
  /** Up to this much is added to each interval, so checks of many nodes drift apart. */
  readonly jitterMs: number;
  /** Consecutive failures that make a healthy node unhealthy. */
  readonly unhealthyThreshold: number;
  /** Consecutive successes that make an unhealthy node healthy again. */
  readonly healthyThreshold: number;
}

export const ACTIVE_CHECK_DEFAULTS: ActiveCheckPolicy = {
  intervalMs: 10_000,
  jitterMs: 3_000,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
};

/**
 * Delay before a node's first check, uniform over whole ms in [0, intervalMs): a gateway that
 * starts with hundreds of nodes would otherwise probe them all in the same instant, every interval.
 * `random` is Math.random or a fake returning values in [0, 1).
 */
export function firstCheckDelay(policy: ActiveCheckPolicy, random: () => number): number {
  return Math.floor(random() * policy.intervalMs);
}

/** Delay between two checks: intervalMs plus a jitter uniform over whole ms in [0, jitterMs]. */
export function nextCheckDelay(policy: ActiveCheckPolicy, random: () => number): number {
  return policy.intervalMs + Math.floor(random() * (policy.jitterMs + 1));
}

/**
 * How late past its deadline a failed probe may come back and still be judged. Later than that,
 * the gateway was not running when the deadline passed (stopped, starved of CPU, paused with its
 * VM), and the node's answer may be waiting unread in the socket: a stalled event loop runs its
 * timers before it reads, so the timeout wins. Such a failure says nothing about the node.
 */
export const PROBE_STALL_MS = 100;

/**
 * What a probe's result means: `retry` for a failure that came back more than PROBE_STALL_MS past
 * its deadline, the first time in a row (the prober probes again soon and records nothing). A
 * second such failure in a row counts, so a gateway stalled on every check still takes a hung node
 * out, only one check later.
 */
export function probeVerdict(ok: boolean, elapsedMs: number, timeoutMs: number, retrying: boolean): 'pass' | 'fail' | 'retry' {
  if (ok) return 'pass';
  return !retrying && elapsedMs > timeoutMs + PROBE_STALL_MS ? 'retry' : 'fail';
}

/** Spread of the checks repeated after a stall, which ended for every node at once. */
const STALL_RETRY_SPREAD_MS = 250;

/** Delay before repeating a check that failed in a stall: uniform over whole ms in [0, 250). */
export function stalledCheckDelay(random: () => number): number {
  return Math.floor(random() * STALL_RETRY_SPREAD_MS);
}

/**
 * One node's active state. It starts healthy: a node is assumed up until checks say otherwise, so
 * a gateway (re)start or a newly added node serves at once instead of leaving the cluster empty
 * for healthyThreshold intervals (20 s and more by default); a node that is really down is caught
 * within seconds by connection failures (`markDown`) or by its first failed checks.
 *
 * Two fields, no allocation per check.
 */
export class ActiveHealth {
  readonly #policy: ActiveCheckPolicy;
  #healthy = true;
  /** Consecutive results that disagree with the current state; one agreeing result resets it. */
  #streak = 0;

  constructor(policy: ActiveCheckPolicy = ACTIVE_CHECK_DEFAULTS) {
    this.#policy = policy;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  record(ok: boolean): void {
    if (ok === this.#healthy) {
      this.#streak = 0;
      return;
    }
    this.#streak++;
    const needed = this.#healthy ? this.#policy.unhealthyThreshold : this.#policy.healthyThreshold;
    if (this.#streak >= needed) {
      this.#healthy = ok;
      this.#streak = 0;
    }
  }

  /**
   * Unhealthy at once, without waiting for failed checks (consecutive connection failures seen by
   * the acceptors). Any successes counted so far are dropped, so it takes healthyThreshold fresh
   * successes to come back.
   */
  markDown(): void {
    this.#healthy = false;
    this.#streak = 0;
  }
}
