import type { GatewayConfig } from '../config/load.js';
import type { BreakerConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { BREAKER_STATE_NAMES, BreakerState, NodeBreaker, type BreakerOptions, type BreakerSample } from '../resilience/breaker.js';
import { LATENCY_BUCKETS } from '../resilience/latency-histogram.js';
import type { NodeNumbering } from '../shm/node-numbering.js';
import { beginProbePeriod, readBreakerCounts, refillProbeTokens, setBreakerState, type BreakerCounts, type BreakerTable } from '../shm/breaker-table.js';

/** One node's breaker, and the shared counts it last read. */
interface Watched {
  readonly cluster: string;
  readonly id: string;
  readonly slot: number;
  /** Its cluster's breaker options and its url, as a reload compares them. */
  readonly options: string;
  readonly breaker: NodeBreaker;
  readonly last: Float64Array;
  readonly lastCounts: BreakerCounts;
  /** This tick's differences: the latencies, and what the breaker samples. */
  readonly delta: Float64Array;
  failures: number;
  probeEndings: number;
  probeFailures: number;
}

export interface BreakerView {
  readonly cluster: string;
  readonly node: string;
  readonly state: (typeof BREAKER_STATE_NAMES)[number];
  readonly score: number;
  /** The node's latest p99 (ms), null while too few answers. */
  readonly p99Ms: number | null;
}

/** Differences of running totals that wrap at 2^32 (read unsigned). */
function since(now: number, before: number): number {
  return now >= before ? now - before : now + 2 ** 32 - before;
}

/**
 * The coordinator's side of the circuit breakers (DESIGN "Breakers"): every breaker tick it reads
 * each node's shared counts (shm/breaker-table.ts), feeds the differences to the node's breaker
 * (resilience/breaker.ts) together with its cluster's median p99, and writes each state that
 * changed where the selection predicate reads it, with the probe tokens of a half-open node.
 */
export class BreakerMonitor {
  readonly #table: BreakerTable;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #random: () => number;
  #tickMs: number;
  #probeTimeoutMs: number;
  #clusters = new Map<string, Watched[]>();
  #lastTick: number;
  #timer: NodeJS.Timeout | null = null;
  /** Where a node's counts are read into, each tick. */
  readonly #current = new Float64Array(LATENCY_BUCKETS);
  readonly #currentCounts: BreakerCounts = { failures: 0, probeEndings: 0, probeFailures: 0 };
  /** Transitions so far, by "from>to". */
  readonly transitions = new Map<string, number>();

  constructor(config: GatewayConfig, numbering: NodeNumbering, table: BreakerTable, log: Logger, clock: () => number, random: () => number = Math.random) {
    this.#table = table;
    this.#log = log;
    this.#clock = clock;
    this.#random = random;
    this.#tickMs = config.settings.breakerTickMs;
    this.#probeTimeoutMs = config.settings.upstreamTimeoutMs + config.settings.breakerTickMs;
    this.#lastTick = clock();
    this.reconfigure(config, numbering);
  }

  /**
   * A reloaded config: nodes that stay keep their breakers, unless their cluster's options changed
   * or the node's url did (another backend under the same id: node-roster.ts starts it afresh too).
   */
  reconfigure(config: GatewayConfig, numbering: NodeNumbering): void {
    const known = new Map([...this.#clusters.values()].flat().map((watched) => [watched.slot, watched]));
    const next = new Map<string, Watched[]>();
    for (const [name, cluster] of Object.entries(config.clusters)) {
      const options = JSON.stringify(cluster.breaker);
      const slots = numbering.members[name]!;
      if (!cluster.breaker.enabled) {
        for (const slot of slots) setBreakerState(this.#table, slot, BreakerState.Closed, 0);
        continue;
      }
      next.set(
        name,
        cluster.nodes.map((node, i) => {
          const slot = slots[i]!;
          const kept = known.get(slot);
          const watchedAs = `${options} ${node.url}`;
          if (kept !== undefined && kept.options === watchedAs) return kept;
          // Tries sent under the old breaker (to the old url) still end: they count in none of the new one's windows.
          if (kept !== undefined) beginProbePeriod(this.#table, slot);
          return this.#watch(name, node.id, slot, cluster.breaker, watchedAs);
        }),
      );
    }
    this.#clusters = next;
  }

  start(): void {
    this.#timer = setInterval(() => this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** One breaker tick (the timer's; tests call it with their own clock). */
  tick(): void {
    const now = this.#clock();
    const elapsed = Math.max(1, now - this.#lastTick);
    this.#lastTick = now;
    for (const watched of this.#clusters.values()) {
      for (const node of watched) {
        this.#read(node);
        node.breaker.observe(sampleOf(node), elapsed);
      }
      const clusterP99 = lowerMedian(watched.flatMap((node) => (node.breaker.state === BreakerState.Closed && node.breaker.p99 !== null ? [node.breaker.p99] : [])));
      for (const node of watched) this.#evaluate(node, now, clusterP99, elapsed);
    }
  }

  views(): BreakerView[] {
    return [...this.#clusters.values()].flat().map(({ cluster, id, breaker }) => ({
      cluster,
      node: id,
      state: BREAKER_STATE_NAMES[breaker.state],
      score: breaker.score,
      p99Ms: breaker.p99,
    }));
  }

  #evaluate(node: Watched, now: number, clusterP99: number | null, elapsed: number): void {
    const { breaker } = node;
    const before = breaker.state;
    // Opening forgets the window's p99: the log wants the one that opened it.
    const p99Ms = breaker.p99;
    const after = breaker.evaluate(now, sampleOf(node), clusterP99, elapsed);
    if (after !== before) {
      if (after === BreakerState.HalfOpen) {
        // The new period's probes count from 0 (breaker-table.ts): so do the differences taken of them.
        beginProbePeriod(this.#table, node.slot);
        node.lastCounts.probeEndings = 0;
        node.lastCounts.probeFailures = 0;
      }
      setBreakerState(this.#table, node.slot, after, after === BreakerState.HalfOpen ? breaker.probesOwed : 0);
      const key = `${BREAKER_STATE_NAMES[before]}>${BREAKER_STATE_NAMES[after]}`;
      this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
      const fields = { cluster: node.cluster, node: node.id, from: BREAKER_STATE_NAMES[before], to: BREAKER_STATE_NAMES[after] };
      if (after === BreakerState.Open) this.#log.warn({ ...fields, score: round(breaker.score), p99Ms }, 'circuit breaker opened');
      else this.#log.info(fields, 'circuit breaker state changed');
    } else if (breaker.probesLost(now)) {
      refillProbeTokens(this.#table, node.slot, breaker.probesOwed);
    }
  }

  #read(node: Watched): void {
    const { last, delta, lastCounts } = node;
    const current = this.#current;
    const counts = this.#currentCounts;
    readBreakerCounts(this.#table, node.slot, current, counts);
    for (let b = 0; b < LATENCY_BUCKETS; b++) delta[b] = since(current[b]!, last[b]!);
    last.set(current);
    node.failures = since(counts.failures, lastCounts.failures);
    node.probeEndings = since(counts.probeEndings, lastCounts.probeEndings);
    node.probeFailures = since(counts.probeFailures, lastCounts.probeFailures);
    Object.assign(lastCounts, counts);
  }

  #watch(cluster: string, id: string, slot: number, config: BreakerConfig, options: string): Watched {
    const breakerOptions: BreakerOptions = { ...config, probeTimeoutMs: this.#probeTimeoutMs };
    const last = new Float64Array(LATENCY_BUCKETS);
    const lastCounts: BreakerCounts = { failures: 0, probeEndings: 0, probeFailures: 0 };
    // Counting starts now: what the slot counted before is another breaker's history.
    readBreakerCounts(this.#table, slot, last, lastCounts);
    setBreakerState(this.#table, slot, BreakerState.Closed, 0);
    return {
      cluster,
      id,
      slot,
      options,
      breaker: new NodeBreaker(breakerOptions, this.#tickMs, this.#random),
      last,
      lastCounts,
      delta: new Float64Array(LATENCY_BUCKETS),
      failures: 0,
      probeEndings: 0,
      probeFailures: 0,
    };
  }
}

function sampleOf(node: Watched): BreakerSample {
  return { latencies: node.delta, failures: node.failures, probeEndings: node.probeEndings, probeFailures: node.probeFailures };
}

/** The lower median: with two nodes, the faster one's p99 is the reference. */
function lowerMedian(values: number[]): number | null {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  return values[(values.length - 1) >> 1]!;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
