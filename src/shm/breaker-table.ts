/**
 * Per-node circuit-breaker words shared by every thread (DESIGN "Node table": failures, latency
 * histogram, breaker state, probe tokens), in their own buffer beside the node table: acceptors
 * count each ending here, the coordinator reads the counts every breaker tick
 * (GATEWAY_BREAKER_TICK_MS), runs each node's breaker (resilience/breaker.ts) and writes its
 * state, which the selection predicate reads. Slots are the node table's (node-numbering.ts).
 *
 * Layout, Int32 words:
 *   NODE_COUNT                                      coordinator, once at creation
 *   per node n, NODE_WORDS at NODES_OFFSET + n × NODE_WORDS:
 *     STATE     BreakerState: closed, open,         coordinator Atomics.store each tick it changes;
 *               half-open                           acceptors Atomics.load in the selection predicate
 *     PROBES    probe tokens a half-open node has   coordinator Atomics.store on entering half-open
 *               left: the period they are of, its   (refill 0), after PROBE_PERIOD, and
 *               low 12 bits (bits 20-31), which     Atomics.load then store to refill lost ones
 *               refill of it (10-19, wraps), and    (refill + 1: it alone writes those bits);
 *               how many (0-9, up to the 1,000      acceptors take one with
 *               probes a breaker may want)          Atomics.compareExchange when they pick it,
 *                                                   only while the bits are the period they read
 *     PROBES    (also)                              acceptor Atomics.compareExchange adding one
 *                                                   to give a token back when its probe ended
 *                                                   saying nothing of the node, only while the
 *                                                   bits are its token's period and refill: the
 *                                                   check and the add are one step, so a token
 *                                                   taken before a refill, or of an earlier
 *                                                   period, never adds to the tokens stored since
 *     FAILURES  endings that were failures          acceptor Atomics.add(+1) when a request ends
 *               (connection errors, resets,
 *               timeouts, 5xx), ever (wraps)
 *     PROBE_TALLY  the current half-open period's   coordinator Atomics.store (its period's low
 *               probes: the period's low 12 bits    12 bits, counts 0) on entering half-open, after
 *               (bits 20-31), probes ended (10-19,  PROBE_PERIOD and before PROBES and STATE;
 *               saturating at 1,023, over the most  acceptor Atomics.compareExchange adding an
 *               probes a breaker wants) and of      ending while the bits are its probe's period:
 *               them failed (0-9)                   the check and the count are one step, so a
 *                                                   probe of an earlier period (up to 4,095 back)
 *                                                   never counts in a new one
 *     PROBE_PERIOD  which half-open period the      coordinator Atomics.add(+1) on entering
 *               tokens are of (wraps)               half-open, before PROBES and STATE (and as a
 *                                                   new breaker takes the slot); acceptors
 *                                                   Atomics.load as they send a try (before a
 *                                                   probe takes its token) and as it ends: a try
 *                                                   of an earlier period counts nothing
 *     LATENCY + b  endings whose time to the        acceptor Atomics.add(+1) when a request ends
 *               response head (or failure) falls
 *               in latency bucket b, ever (wraps)
 * Counters wrap past 2^32 and are read unsigned; the coordinator keeps the last values and takes
 * differences, so a thread that dies loses nothing but the endings it never recorded.
 */
import { BreakerState } from '../resilience/breaker.js';
import { LATENCY_BUCKETS } from '../resilience/latency-histogram.js';
import type { CircuitStates } from '../routing/circuit-gate.js';

export const NODE_COUNT = 0;
/** Node 0 starts a cache line (16 words) in. */
export const NODES_OFFSET = 16;

export const STATE = 0;
export const PROBES = 1;
export const FAILURES = 2;
export const PROBE_TALLY = 3;
export const PROBE_PERIOD = 4;
export const LATENCY = 5;

/** Where PROBE_TALLY and PROBES hold the low bits of the half-open period they are of. */
const PERIOD_SHIFT = 20;
const PERIOD_MASK = 0xfff;
const TALLY_ENDINGS_SHIFT = 10;
const TALLY_COUNT_MASK = 0x3ff;
/** PROBES: the refill the tokens are of, between the period's bits and the tokens. */
const REFILL_SHIFT = 10;
const REFILL_MASK = 0x3ff;
/** PROBES: the tokens (1,023 at most, over the 1,000 probes a breaker may want). */
const TOKENS_MASK = 0x3ff;
export const NODE_WORDS = LATENCY + LATENCY_BUCKETS;

export interface BreakerTable {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly count: number;
}

function nodeWord(node: number, field: number): number {
  return NODES_OFFSET + node * NODE_WORDS + field;
}

/** Coordinator: room for `nodeCapacity` nodes (the node table's), every breaker closed. */
export function createBreakerTable(nodeCapacity: number): BreakerTable {
  const buffer = new SharedArrayBuffer((NODES_OFFSET + nodeCapacity * NODE_WORDS) * Int32Array.BYTES_PER_ELEMENT);
  Atomics.store(new Int32Array(buffer), NODE_COUNT, nodeCapacity);
  return attachBreakerTable(buffer);
}

export function attachBreakerTable(buffer: SharedArrayBuffer): BreakerTable {
  const words = new Int32Array(buffer);
  return { buffer, words, count: Atomics.load(words, NODE_COUNT) };
}

/** Acceptor, when a request given to `node` ends with an answer or a failure `ms` after it was sent. */
export function recordBreakerEnding(table: BreakerTable, node: number, bucket: number, failed: boolean): void {
  const at = nodeWord(node, 0);
  Atomics.add(table.words, at + LATENCY + bucket, 1);
  if (failed) Atomics.add(table.words, at + FAILURES, 1);
}

/**
 * Acceptor, when a probe given to `node` in half-open period `period` ends with an answer or a
 * failure (besides recordBreakerEnding); one of an earlier period (it outlived a reopening) judges
 * nothing now.
 */
export function recordProbeEnding(table: BreakerTable, node: number, period: number, failed: boolean): void {
  const at = nodeWord(node, PROBE_TALLY);
  const periodBits = period & PERIOD_MASK;
  for (;;) {
    const tally = Atomics.load(table.words, at);
    if (tally >>> PERIOD_SHIFT !== periodBits || ((tally >>> TALLY_ENDINGS_SHIFT) & TALLY_COUNT_MASK) === TALLY_COUNT_MASK) return;
    if (Atomics.compareExchange(table.words, at, tally, tally + (1 << TALLY_ENDINGS_SHIFT) + (failed ? 1 : 0)) === tally) return;
  }
}

/** Acceptor, as it takes a token: the half-open period the node's tokens are of. */
export function probePeriod(table: BreakerTable, node: number): number {
  return Atomics.load(table.words, nodeWord(node, PROBE_PERIOD));
}

/**
 * Coordinator, as a node enters half-open (before its tokens and state are stored), or as a new
 * breaker takes its slot: a new period of probes, none counted yet, and tries sent before count in nothing.
 */
export function beginProbePeriod(table: BreakerTable, node: number): void {
  const period = Atomics.add(table.words, nodeWord(node, PROBE_PERIOD), 1) + 1;
  Atomics.store(table.words, nodeWord(node, PROBE_TALLY), (period & PERIOD_MASK) << PERIOD_SHIFT);
}

/**
 * Acceptor, when a probe whose token was of half-open period `period`, refill `refill` ended saying
 * nothing of its node (its client left, it waited out its pool, it was let go untried): its token
 * goes back for another request, rather than waiting for the refill of lost probes. One given back
 * after the node left half-open is overwritten when it next half-opens, and an open node takes
 * nothing whatever its tokens.
 */
export function returnProbeToken(table: BreakerTable, node: number, period: number, refill: number): void {
  const at = nodeWord(node, PROBES);
  const stamp = ((period & PERIOD_MASK) << (PERIOD_SHIFT - REFILL_SHIFT)) | refill;
  for (;;) {
    const tokens = Atomics.load(table.words, at);
    // Of an earlier period or refill: the tokens stored since are the whole of it, and this one's
    // probe counts among the lost ones they replaced.
    if (tokens >>> REFILL_SHIFT !== stamp || (tokens & TOKENS_MASK) === TOKENS_MASK) return;
    if (Atomics.compareExchange(table.words, at, tokens, tokens + 1) === tokens) return;
  }
}

/**
 * Coordinator, as a half-open node's probes all went out and none came back in time: `probes`
 * tokens again, of a new refill, so that a token taken before it and given back late adds nothing
 * (the node would take more probes at once than it wants).
 */
export function refillProbeTokens(table: BreakerTable, node: number, probes: number): void {
  const at = nodeWord(node, PROBES);
  // Acceptors change only the tokens' bits: the period's and the refill's read here stay.
  const tokens = Atomics.load(table.words, at);
  const refill = (((tokens >>> REFILL_SHIFT) + 1) & REFILL_MASK) << REFILL_SHIFT;
  Atomics.store(table.words, at, (tokens & (PERIOD_MASK << PERIOD_SHIFT)) | refill | probes);
}

/** Node n's running totals (failures: read unsigned, they wrap), and its current half-open period's probes so far. */
export interface BreakerCounts {
  failures: number;
  probeEndings: number;
  probeFailures: number;
}

/** Coordinator: node n's running totals into `counts`, and per latency bucket into `latencies`. */
export function readBreakerCounts(table: BreakerTable, node: number, latencies: Float64Array, counts: BreakerCounts): void {
  const words = table.words;
  const at = nodeWord(node, 0);
  // Failures before latencies, the reverse of recordBreakerEnding's order: no failure is read without its ending.
  counts.failures = Atomics.load(words, at + FAILURES) >>> 0;
  for (let b = 0; b < LATENCY_BUCKETS; b++) latencies[b] = Atomics.load(words, at + LATENCY + b) >>> 0;
  const tally = Atomics.load(words, at + PROBE_TALLY);
  counts.probeEndings = (tally >>> TALLY_ENDINGS_SHIFT) & TALLY_COUNT_MASK;
  counts.probeFailures = tally & TALLY_COUNT_MASK;
}

/** Coordinator: node n's breaker state, and the probe tokens it hands out (half-open). */
export function setBreakerState(table: BreakerTable, node: number, state: BreakerState, probes: number): void {
  // Tokens first: an acceptor that sees half-open must find them. They are of the period begun
  // last, its refill 0.
  const periodBits = probePeriod(table, node) & PERIOD_MASK;
  Atomics.store(table.words, nodeWord(node, PROBES), (periodBits << PERIOD_SHIFT) | probes);
  Atomics.store(table.words, nodeWord(node, STATE), state);
}

export function breakerState(table: BreakerTable, node: number): BreakerState {
  return Atomics.load(table.words, nodeWord(node, STATE)) as BreakerState;
}

export function probeTokens(table: BreakerTable, node: number): number {
  return Atomics.load(table.words, nodeWord(node, PROBES)) & TOKENS_MASK;
}

/** One cluster's breaker states, read in place by the selection predicate (members in ring order). */
export class ClusterBreakers implements CircuitStates {
  readonly #words: Int32Array;
  /** Word offset of each member's fields. */
  readonly #at: Int32Array;

  constructor(table: BreakerTable, members: readonly number[]) {
    this.#words = table.words;
    this.#at = Int32Array.from(members, (node) => nodeWord(node, 0));
  }

  state(member: number): BreakerState {
    return Atomics.load(this.#words, this.#at[member]! + STATE) as BreakerState;
  }

  /**
   * Takes one of a half-open member's probe tokens of half-open period `period`: the refill the
   * token is of (returnProbeToken's), or -1 when another thread took the last, or the tokens are of
   * another period.
   */
  takeProbe(member: number, period: number): number {
    const at = this.#at[member]! + PROBES;
    const periodBits = period & PERIOD_MASK;
    for (let tokens = Atomics.load(this.#words, at); tokens >>> PERIOD_SHIFT === periodBits && (tokens & TOKENS_MASK) > 0; tokens = Atomics.load(this.#words, at)) {
      if (Atomics.compareExchange(this.#words, at, tokens, tokens - 1) === tokens) return (tokens >>> REFILL_SHIFT) & REFILL_MASK;
    }
    return -1;
  }

  probesLeft(member: number): number {
    return Atomics.load(this.#words, this.#at[member]! + PROBES) & TOKENS_MASK;
  }

  probePeriod(member: number): number {
    return Atomics.load(this.#words, this.#at[member]! + PROBE_PERIOD);
  }
}
