import { describe, expect, it } from 'vitest';
import { bucketCeilingMs, bucketFloorMs, DecayingHistogram, LATENCY_BUCKETS, latencyBucket, quantileMs } from '../../src/resilience/latency-histogram.js';

describe('latency histogram', () => {
  it('puts every latency in the bucket whose bounds hold it', () => {
    for (const ms of [0.13, 0.2, 0.5, 1, 1.4, 3, 17, 250, 1000, 30_000]) {
      const b = latencyBucket(ms);
      expect(bucketFloorMs(b)).toBeLessThanOrEqual(ms);
      expect(bucketCeilingMs(b)).toBeGreaterThan(ms);
    }
  });

  it('has half-octave buckets: each bound about 1.41× the last', () => {
    for (let b = 2; b < LATENCY_BUCKETS; b++) {
      const ratio = bucketFloorMs(b) / bucketFloorMs(b - 1);
      expect(ratio === 1.5 || ratio === 4 / 3).toBe(true);
    }
  });

  it('clamps the extremes', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(-3)).toBe(0);
    expect(latencyBucket(Number.NaN)).toBe(0);
    expect(latencyBucket(10 * 3600 * 1000)).toBe(LATENCY_BUCKETS - 1);
  });

  it('reads p99 within its bucket', () => {
    const counts = new Float64Array(LATENCY_BUCKETS);
    counts[latencyBucket(1)] = 99;
    counts[latencyBucket(50)] = 1;
    expect(quantileMs(counts, 0.99)).toBeLessThan(1.5);
    expect(quantileMs(counts, 1)).toBeGreaterThan(45);
    expect(quantileMs(new Float64Array(LATENCY_BUCKETS), 0.99)).toBeNull();
  });

  it('decays old counts', () => {
    const h = new DecayingHistogram();
    const slow = new Float64Array(LATENCY_BUCKETS);
    slow[latencyBucket(100)] = 100;
    const fast = new Float64Array(LATENCY_BUCKETS);
    fast[latencyBucket(1)] = 100;
    h.add(slow, 1);
    expect(h.p99()).toBeGreaterThan(90);
    for (let i = 0; i < 10; i++) h.add(fast, 0.5);
    expect(h.count).toBeCloseTo(100 * 2 ** -10 + 199.8, 0);
    expect(h.p99()).toBeLessThan(2);
  });
});
