/**
 * Latencies in half-octave buckets (each bound 1.41× the last, as HdrHistogram's coarsest form):
 * fine enough that "p99 at 3× its baseline" is visible, and small enough (40 buckets, 128 µs to
 * ~67 s) that every node's histogram fits the shared breaker table. Acceptors only compute a
 * bucket index (two integer operations); the coordinator keeps the decayed sums and reads p99.
 */

export const LATENCY_BUCKETS = 40;
/** Bucket 0 holds everything under 2^7 µs. */
const FIRST_OCTAVE = 7;

/** The bucket of a latency in milliseconds. */
export function latencyBucket(ms: number): number {
  const micros = ms * 1000;
  if (!(micros >= 1 << FIRST_OCTAVE)) return 0;
  if (micros >= 2 ** 30) return LATENCY_BUCKETS - 1;
  const whole = micros | 0;
  const octave = 31 - Math.clz32(whole);
  // The bit under the leading one says which half of the octave.
  const half = (whole >>> (octave - 1)) & 1;
  return Math.min(LATENCY_BUCKETS - 1, (octave - FIRST_OCTAVE) * 2 + half + 1);
}

/** The lowest latency (ms) bucket b holds. */
export function bucketFloorMs(bucket: number): number {
  if (bucket === 0) return 0;
  const octave = FIRST_OCTAVE + ((bucket - 1) >> 1);
  return (2 ** octave * (1 + ((bucket - 1) & 1) / 2)) / 1000;
}

/** The latency (ms) bucket b holds up to (not included). */
export function bucketCeilingMs(bucket: number): number {
  return bucket === 0 ? bucketFloorMs(1) : bucketFloorMs(bucket + 1);
}

/** Total count in a histogram. */
export function histogramCount(counts: ArrayLike<number>): number {
  let total = 0;
  for (let b = 0; b < counts.length; b++) total += counts[b]!;
  return total;
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram in ms, linear within its bucket; null when empty.
 * Counts may be fractional (decayed).
 */
export function quantileMs(counts: ArrayLike<number>, q: number): number | null {
  const total = histogramCount(counts);
  if (total <= 0) return null;
  const rank = q * total;
  let below = 0;
  for (let b = 0; b < counts.length; b++) {
    const count = counts[b]!;
    if (count > 0 && below + count >= rank) {
      const floor = bucketFloorMs(b);
      return floor + (bucketCeilingMs(b) - floor) * ((rank - below) / count);
    }
    below += count;
  }
  return bucketCeilingMs(counts.length - 1);
}

/**
 * A histogram whose old counts fade: each `decay(factor)` multiplies every count, so p99 reflects
 * the last few half-lives of traffic. One slow answer among the hundreds a half-life holds cannot
 * move p99; a node that stays slow moves it within a fraction of a half-life.
 */
export class DecayingHistogram {
  readonly counts = new Float64Array(LATENCY_BUCKETS);

  /** Adds new counts (one entry per bucket) after fading the old ones by `factor` (0–1). */
  add(delta: ArrayLike<number>, factor: number): void {
    const counts = this.counts;
    for (let b = 0; b < counts.length; b++) counts[b] = counts[b]! * factor + delta[b]!;
  }

  clear(): void {
    this.counts.fill(0);
  }

  get count(): number {
    return histogramCount(this.counts);
  }

  p99(): number | null {
    return quantileMs(this.counts, 0.99);
  }
}

/** How much of an exponentially decaying quantity is left after `elapsedMs` with the given half-life. */
export function decayFactor(elapsedMs: number, halfLifeMs: number): number {
  return 2 ** (-elapsedMs / halfLifeMs);
}
