/**
 * Each cluster's retry budget and retry counters, shared by every thread (issue 11): the retries
 * in flight, which one atomic add claims and checks against the budget; one lane per acceptor
 * thread holding that thread's share, so the coordinator can take back what a dead thread held;
 * and the running totals the coordinator exports (retries by reason, budget exhaustions).
 * Cluster indices are the node table's (node-numbering.ts).
 *
 * Layout, Int32 words:
 *   CLUSTER_COUNT, LANE_COUNT                         coordinator, once at creation
 *   per cluster c, CLUSTER_WORDS at CLUSTERS_OFFSET + c × CLUSTER_WORDS:
 *     IN_FLIGHT   retries decided and not ended       acceptor Atomics.add(+1) to claim (and
 *                 (waiting out their backoff, or      Atomics.sub(1) at once when over the budget),
 *                 sent and not answered)              Atomics.sub(1) when the retry's try ends;
 *                                                     coordinator Atomics.sub(a dead thread's lane)
 *     EXHAUSTED   retries the budget refused, ever    acceptor Atomics.add(+1)
 *     RETRIES + r retries made for reason r           acceptor Atomics.add(+1) once a claimed retry
 *                 (RETRY_REASONS order), ever             found its node
 *   per lane t, clusterCount words at lanesOffset + t × clusterCount:
 *     thread t's share of each cluster's IN_FLIGHT    acceptor t Atomics.add / Atomics.sub alongside
 *                                                     IN_FLIGHT; coordinator Atomics.exchange(0)
 *                                                     once thread t has exited
 */
import { RETRY_REASONS } from '../resilience/retry-reasons.js';

export const CLUSTER_COUNT = 0;
export const LANE_COUNT = 1;
export const CLUSTERS_OFFSET = 16;

export const IN_FLIGHT = 0;
export const EXHAUSTED = 1;
export const RETRIES = 2;
export const CLUSTER_WORDS = RETRIES + RETRY_REASONS.length;

export interface RetryTable {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly clusterCount: number;
  readonly laneCount: number;
  readonly lanesOffset: number;
}

function clusterWord(cluster: number, field: number): number {
  return CLUSTERS_OFFSET + cluster * CLUSTER_WORDS + field;
}

function laneWord(table: RetryTable, lane: number, cluster: number): number {
  return table.lanesOffset + lane * table.clusterCount + cluster;
}

/** Coordinator: room for `clusterCapacity` clusters (the node table's) and `lanes` acceptor threads. */
export function createRetryTable(clusterCapacity: number, lanes: number): RetryTable {
  const words = CLUSTERS_OFFSET + clusterCapacity * CLUSTER_WORDS + lanes * clusterCapacity;
  const buffer = new SharedArrayBuffer(words * Int32Array.BYTES_PER_ELEMENT);
  const view = new Int32Array(buffer);
  Atomics.store(view, CLUSTER_COUNT, clusterCapacity);
  Atomics.store(view, LANE_COUNT, lanes);
  return attachRetryTable(buffer);
}

export function attachRetryTable(buffer: SharedArrayBuffer): RetryTable {
  const words = new Int32Array(buffer);
  const clusterCount = Atomics.load(words, CLUSTER_COUNT);
  return {
    buffer,
    words,
    clusterCount,
    laneCount: Atomics.load(words, LANE_COUNT),
    lanesOffset: CLUSTERS_OFFSET + clusterCount * CLUSTER_WORDS,
  };
}

/**
 * Acceptor on `lane`: claims one retry of `cluster` if the cluster has fewer than `budget` in
 * flight. The add comes first, so that threads claiming at once can never all slip under the
 * budget; a claim over it is undone and counted as exhausted.
 */
export function claimRetry(table: RetryTable, lane: number, cluster: number, budget: number): boolean {
  const words = table.words;
  if (Atomics.add(words, clusterWord(cluster, IN_FLIGHT), 1) >= budget) {
    Atomics.sub(words, clusterWord(cluster, IN_FLIGHT), 1);
    Atomics.add(words, clusterWord(cluster, EXHAUSTED), 1);
    return false;
  }
  Atomics.add(words, laneWord(table, lane, cluster), 1);
  return true;
}

/** Acceptor: a claimed retry for `reason` (its RETRY_REASONS index) goes ahead. */
export function countRetry(table: RetryTable, cluster: number, reason: number): void {
  Atomics.add(table.words, clusterWord(cluster, RETRIES + reason), 1);
}

/** Acceptor on `lane`: a claimed retry has ended (its try was answered or failed, or the client left). */
export function endRetry(table: RetryTable, lane: number, cluster: number): void {
  Atomics.sub(table.words, clusterWord(cluster, IN_FLIGHT), 1);
  Atomics.sub(table.words, laneWord(table, lane, cluster), 1);
}

/** Coordinator, once the thread of `lane` has exited: its retries leave every cluster's count. */
export function releaseRetryLane(table: RetryTable, lane: number): void {
  for (let cluster = 0; cluster < table.clusterCount; cluster++) {
    const held = Atomics.exchange(table.words, laneWord(table, lane, cluster), 0);
    if (held !== 0) Atomics.sub(table.words, clusterWord(cluster, IN_FLIGHT), held);
  }
}

export function retriesInFlight(table: RetryTable, cluster: number): number {
  return Atomics.load(table.words, clusterWord(cluster, IN_FLIGHT));
}

/** Coordinator: cluster c's running totals, for /metrics. */
export function readRetryCounters(table: RetryTable, cluster: number): { exhausted: number; byReason: { reason: string; retries: number }[] } {
  const words = table.words;
  return {
    exhausted: Atomics.load(words, clusterWord(cluster, EXHAUSTED)) >>> 0,
    byReason: RETRY_REASONS.map((reason, r) => ({ reason, retries: Atomics.load(words, clusterWord(cluster, RETRIES + r)) >>> 0 })),
  };
}
