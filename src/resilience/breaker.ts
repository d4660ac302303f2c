/**
 * One node's circuit breaker (DESIGN "Breakers"), a pure state machine fed once per breaker tick
 * with what the acceptors counted since the last tick. Score = 0.6 × failure rate + 0.4 × p99 /
 * reference p99; at `threshold` it opens. The failure rate is over a sliding window; the latency
 * histogram decays, so one GC pause among hundreds of answers does not move p99.
 *
 * A p99 at or under the reference counts as 1 (normal), so a node answering only failures opens
 * however fast it answers them: 0.6 × 1 + 0.4 × 1.
 *
 * The reference p99 is the largest of: the node's own slow-moving baseline (or a configured one),
 * its cluster's lower-median p99 right now, and `minBaselineMs`. The cluster's median keeps a
 * slowdown every node shares (the gateway's own CPU, a shared database) from opening every
 * breaker at once, which would turn a slow cluster into a dead one; the floor keeps sub-millisecond
 * jitter on a fast node from reading as "3× slower".
 *
 * Open → half-open after `openMs` (doubling on each open in a row, up to `maxOpenMs`) plus up to
 * 20% jitter, so breakers opened together do not probe together. Half-open lets `probes` requests
 * through (tokens the acceptors take); that many answers close it, one failure reopens it. A few
 * probes say nothing about p99 (one answer slowed by the machine's own load would read as the
 * node's): a node opened for its latency is judged on it again once closed, from a fresh window,
 * and opens for twice as long if it is still slow.
 */
import { doubledMs } from './doubling.js';
import { decayFactor, DecayingHistogram, histogramCount } from './latency-histogram.js';

export const enum BreakerState {
  Closed = 0,
  Open = 1,
  HalfOpen = 2,
}

export const BREAKER_STATE_NAMES = ['closed', 'open', 'half_open'] as const;

export interface BreakerOptions {
  readonly threshold: number;
  readonly windowMs: number;
  /** Answers the window must hold before the breaker may open. */
  readonly minRequests: number;
  readonly latencyHalfLifeMs: number;
  /** Decayed answers the histogram must hold before its p99 counts (below: the latency part is neutral). */
  readonly minLatencySamples: number;
  /** A fixed baseline p99 (ms) instead of the learned one. */
  readonly baselineP99Ms?: number | undefined;
  readonly minBaselineMs: number;
  readonly baselineHalfLifeMs: number;
  readonly openMs: number;
  readonly maxOpenMs: number;
  readonly probes: number;
  /** A half-open breaker whose probes all went out and none came back within this refills its tokens. */
  readonly probeTimeoutMs: number;
}

export const FAILURE_WEIGHT = 0.6;
export const LATENCY_WEIGHT = 0.4;
const OPEN_JITTER = 0.2;
/**
 * A failure window with fewer than minRequests answers reaches back, up to this many windows,
 * until it holds them: a node failing every request at 15 a second would otherwise never be
 * judged (and with breakers on, passive health leaves 5xx to them).
 */
export const THIN_WINDOWS = 10;

/** What the acceptors counted for one node since the last tick. */
export interface BreakerSample {
  /** Answers and failures, by latency bucket. */
  readonly latencies: ArrayLike<number>;
  /** How many of them were failures (connection errors, resets, timeouts, 5xx). */
  readonly failures: number;
  /** Endings of probes (requests that took a half-open node's token), and how many of those failed. */
  readonly probeEndings: number;
  readonly probeFailures: number;
}

export class NodeBreaker {
  state = BreakerState.Closed;
  /** The last score computed (0 while the window is too thin to judge). */
  score = 0;
  /** The latest p99 (ms), null while too few answers. */
  p99: number | null = null;
  readonly #options: BreakerOptions;
  readonly #random: () => number;
  readonly #histogram = new DecayingHistogram();
  /** Per tick slot of the failure window, THIN_WINDOWS windows of them: answers and failures. */
  readonly #windowAnswers: Float64Array;
  readonly #windowFailures: Float64Array;
  /** Slots in one window. */
  readonly #windowSlots: number;
  #slot = 0;
  #baseline: number | undefined;
  #opensInARow = 0;
  #since = 0;
  #openUntil = 0;
  #probeAnswers = 0;
  #lastProbeActivity = 0;

  constructor(options: BreakerOptions, tickMs: number, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
    this.#windowSlots = Math.max(1, Math.round(options.windowMs / tickMs));
    this.#windowAnswers = new Float64Array(this.#windowSlots * THIN_WINDOWS);
    this.#windowFailures = new Float64Array(this.#windowSlots * THIN_WINDOWS);
    this.#baseline = options.baselineP99Ms;
  }

  /** Moves the window and histogram on by one tick (`elapsedMs` since the last one); returns the new state. */
  observe(sample: BreakerSample, elapsedMs: number): void {
    this.#windowAnswers[this.#slot] = histogramCount(sample.latencies);
    this.#windowFailures[this.#slot] = sample.failures;
    this.#slot = (this.#slot + 1) % this.#windowAnswers.length;
    this.#histogram.add(sample.latencies, decayFactor(elapsedMs, this.#options.latencyHalfLifeMs));
    this.p99 = this.#histogram.count >= this.#options.minLatencySamples ? this.#histogram.p99() : null;
  }

  /**
   * After every node of the cluster observed this tick: the new state. `clusterP99` is the
   * cluster's lower-median p99 (null: not enough answers anywhere), `sample` this tick's counts.
   */
  evaluate(now: number, sample: BreakerSample, clusterP99: number | null, elapsedMs: number): BreakerState {
    const o = this.#options;
    if (this.state === BreakerState.Closed) {
      this.#learnBaseline(clusterP99, elapsedMs);
      if (now - this.#since >= o.maxOpenMs) this.#opensInARow = 0;
      // The last window, or as many more as it takes to hold minRequests answers.
      const slots = this.#windowAnswers.length;
      let answers = 0;
      let failures = 0;
      for (let back = 1; back <= slots; back++) {
        const at = (this.#slot - back + slots) % slots;
        answers += this.#windowAnswers[at]!;
        failures += this.#windowFailures[at]!;
        if (back >= this.#windowSlots && answers >= o.minRequests) break;
      }
      if (answers < o.minRequests) {
        this.score = 0;
        return this.state;
      }
      const reference = Math.max(this.#baseline ?? 0, clusterP99 ?? 0, o.minBaselineMs);
      // At or under the reference is normal (1, as p99 at its baseline scores): a fast node's ratio
      // must not fall to 0.05 against the floor, or failures alone (0.6 at most) could never open it.
      const latencyRatio = this.p99 === null ? 1 : Math.max(1, this.p99 / reference);
      this.score = FAILURE_WEIGHT * (failures / answers) + LATENCY_WEIGHT * latencyRatio;
      if (this.score >= o.threshold) this.#open(now);
    } else if (this.state === BreakerState.Open) {
      if (now >= this.#openUntil) this.#halfOpen(now);
    } else {
      // Only probes judge a half-open node: a request sent before it opened (one timing out now,
      // from when the node hung) says nothing of the node as it is.
      const answered = sample.probeEndings;
      if (answered > 0) this.#lastProbeActivity = now;
      if (sample.probeFailures > 0) this.#open(now);
      else if ((this.#probeAnswers += answered) >= o.probes) this.#close(now);
    }
    return this.state;
  }

  /** A half-open breaker should hand out its probe tokens again: the ones given went nowhere. */
  probesLost(now: number): boolean {
    if (this.state !== BreakerState.HalfOpen || now - this.#lastProbeActivity < this.#options.probeTimeoutMs) return false;
    this.#lastProbeActivity = now;
    return true;
  }

  /** Probe tokens still owed: what a refill should hand out. */
  get probesOwed(): number {
    return Math.max(1, this.#options.probes - this.#probeAnswers);
  }

  get baseline(): number | undefined {
    return this.#baseline;
  }

  /** A new baseline starts at the cluster's median (what the node should look like), then follows the node slowly. */
  #learnBaseline(clusterP99: number | null, elapsedMs: number): void {
    if (this.#options.baselineP99Ms !== undefined || this.p99 === null) return;
    if (this.#baseline === undefined) {
      this.#baseline = Math.min(this.p99, clusterP99 ?? this.p99);
      return;
    }
    this.#baseline += (this.p99 - this.#baseline) * (1 - decayFactor(elapsedMs, this.#options.baselineHalfLifeMs));
  }

  #open(now: number): void {
    const o = this.#options;
    this.#opensInARow++;
    const base = doubledMs(o.openMs, this.#opensInARow - 1, o.maxOpenMs);
    this.#openUntil = now + base * (1 + OPEN_JITTER * this.#random());
    this.state = BreakerState.Open;
    this.#since = now;
    this.#forget();
  }

  /** The answers that opened it, and late ones to requests sent before, are history. */
  #forget(): void {
    this.#histogram.clear();
    this.#windowAnswers.fill(0);
    this.#windowFailures.fill(0);
    this.p99 = null;
  }

  #halfOpen(now: number): void {
    this.state = BreakerState.HalfOpen;
    this.#since = now;
    this.#probeAnswers = 0;
    this.#lastProbeActivity = now;
  }

  #close(now: number): void {
    this.state = BreakerState.Closed;
    this.#since = now;
    this.score = 0;
    // The node is judged from a fresh window once closed.
    this.#forget();
  }
}
