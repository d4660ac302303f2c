import { describe, expect, it } from 'vitest';
import { vnodeCount } from '../../src/routing/ring.js';
import {
  DEFAULT_OTHER_ZONE_COST,
  DEFAULT_SLOW_START,
  compositeWeight,
  nextCacheLocality,
  ringPoints,
  ringWeight,
  slowStartFactor,
  zoneCost,
  type NodeWeightInput,
} from '../../src/routing/node-weight.js';
import { USABLE_HEALTH } from '../../src/resilience/node-health.js';

const healthy: NodeWeightInput = { configWeight: 1, health: 1, azCost: 1, msSinceUsable: Infinity };

describe('compositeWeight', () => {
  it('is health × 0.4 + cacheLocality × 0.35 + (1 / azCost) × 0.25', () => {
    expect(compositeWeight(1, 1, 1)).toBe(1);
    expect(compositeWeight(1, 1, 2.5)).toBeCloseTo(0.85, 12);
    expect(compositeWeight(0.5, 1, 1)).toBeCloseTo(0.8, 12);
    expect(compositeWeight(1, 0, 1)).toBeCloseTo(0.65, 12);
    expect(compositeWeight(0.3, 0.2, 4)).toBeCloseTo(0.12 + 0.07 + 0.0625, 12);
  });

  it('clamps health and locality to [0, 1] and refuses azCost < 1, so it never exceeds 1', () => {
    expect(compositeWeight(1.5, 2, 1)).toBe(1);
    expect(compositeWeight(-1, -1, 1)).toBeCloseTo(0.25, 12);
    expect(() => compositeWeight(1, 1, 0.5)).toThrow(RangeError);
    expect(() => compositeWeight(1, 1, Number.NaN)).toThrow(RangeError);
  });
});

describe('zoneCost', () => {
  it('is 1 in the gateway zone or with no gateway zone, else per-zone cost, else 2.5', () => {
    expect(DEFAULT_OTHER_ZONE_COST).toBe(2.5);
    expect(zoneCost('eu-1a', 'eu-1a')).toBe(1);
    expect(zoneCost('eu-1b', undefined)).toBe(1);
    expect(zoneCost('eu-1b', 'eu-1a')).toBe(2.5);
    expect(zoneCost('eu-1b', 'eu-1a', {}, 3)).toBe(3);
    expect(zoneCost('us-1a', 'eu-1a', { 'us-1a': 8 })).toBe(8);
    expect(zoneCost('toString', 'eu-1a', {})).toBe(2.5);
  });
});

describe('slowStartFactor', () => {
  it('defaults to a 90 s ramp from 20% in 4 steps', () => {
    expect(DEFAULT_SLOW_START).toEqual({ rampMs: 90_000, initial: 0.2, steps: 4 });
  });

  it('steps 20%, 40%, 60%, 80%, 100% at 22.5 s boundaries', () => {
    const at = (ms: number): number => slowStartFactor(ms);
    expect(at(0)).toBe(0.2);
    expect(at(22_499)).toBe(0.2);
    expect(at(22_500)).toBeCloseTo(0.4, 12);
    expect(at(44_999)).toBeCloseTo(0.4, 12);
    expect(at(45_000)).toBeCloseTo(0.6, 12);
    expect(at(67_499)).toBeCloseTo(0.6, 12);
    expect(at(67_500)).toBeCloseTo(0.8, 12);
    expect(at(89_999)).toBeCloseTo(0.8, 12);
    expect(at(90_000)).toBe(1);
    expect(at(Infinity)).toBe(1);
  });

  it('counts negative times (clock skew) as 0', () => {
    expect(slowStartFactor(-5_000)).toBe(0.2);
  });

  it('takes other options', () => {
    expect(slowStartFactor(30_000, { rampMs: 60_000 })).toBeCloseTo(0.6, 12);
    expect(slowStartFactor(59_999, { rampMs: 60_000, steps: 1 })).toBe(0.2);
    expect(slowStartFactor(10_000, { initial: 0.5, steps: 2 })).toBe(0.5);
    expect(slowStartFactor(45_000, { initial: 0.5, steps: 2 })).toBeCloseTo(0.75, 12);
    expect(slowStartFactor(1, { rampMs: 0 })).toBe(1);
    expect(() => slowStartFactor(0, { steps: 0 })).toThrow(RangeError);
    expect(() => slowStartFactor(0, { steps: 2.5 })).toThrow(RangeError);
  });
});

describe('ringWeight and ringPoints', () => {
  it('multiplies the composite by the configured weight and the slow-start factor', () => {
    expect(ringWeight(healthy)).toBe(1);
    expect(ringWeight({ ...healthy, configWeight: 2, azCost: 2.5 })).toBeCloseTo(1.7, 12);
    expect(ringWeight({ ...healthy, configWeight: 2, msSinceUsable: 0 })).toBeCloseTo(0.4, 12);
    expect(ringPoints({ ...healthy, configWeight: 2, azCost: 2.5 })).toBe(255);
  });

  it('takes cacheLocality 1 while unknown', () => {
    expect(ringWeight({ ...healthy, health: 0.5, cacheLocality: undefined })).toBeCloseTo(0.8, 12);
    expect(ringWeight({ ...healthy, health: 0.5, cacheLocality: 0 })).toBeCloseTo(0.45, 12);
  });

  it('takes a node off the ring under health 0.3', () => {
    expect(USABLE_HEALTH).toBe(0.3);
    expect(ringWeight({ ...healthy, health: 0.29 })).toBe(0);
    expect(ringPoints({ ...healthy, health: 0.29 })).toBe(0);
    expect(ringWeight({ ...healthy, health: Number.NaN })).toBe(0);
    // At 0.3 the node stays: 0.12 + 0.35 + 0.25.
    expect(ringWeight({ ...healthy, health: 0.3 })).toBeCloseTo(0.72, 12);
    expect(ringPoints({ ...healthy, health: 0.3 })).toBe(108);
  });

  it('gives 150 points per unit of weight at each slow-start step, without float noise', () => {
    for (const configWeight of [1, 3, 10]) {
      const points = [0, 22_500, 45_000, 67_500, 90_000].map((ms) => ringPoints({ ...healthy, configWeight, msSinceUsable: ms }));
      expect(points).toEqual([0.2, 0.4, 0.6, 0.8, 1].map((f) => Math.round(configWeight * f * 150)));
    }
  });

  it('never exceeds the points of the configured weight (the shared ring is sized for them)', () => {
    for (const configWeight of [0.01, 0.51, 1, 2.7, 10]) {
      const node = { configWeight, health: 2, cacheLocality: 2, azCost: 1, msSinceUsable: Infinity };
      expect(ringPoints(node)).toBeLessThanOrEqual(vnodeCount(configWeight));
    }
  });
});

describe('measured cache locality', () => {
  it('starts at the first window of enough lookups, then moves a tenth of the way to each new one', () => {
    expect(nextCacheLocality(undefined, 19, 19)).toBeUndefined();
    expect(nextCacheLocality(undefined, 20, 5)).toBe(0.25);
    expect(nextCacheLocality(0.25, 40, 30, 0.5)).toBe(0.5);
    expect(nextCacheLocality(0.25, 40, 30)).toBeCloseTo(0.3, 12); // a tenth by default: one window's noise does not move a ring
    expect(nextCacheLocality(0.5, 10, 0)).toBe(0.5);
  });
});
