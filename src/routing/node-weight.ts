/**
 * A node's weight on the ring, from what the coordinator knows of it each window:
 *
 *   weight = configWeight × (health × 0.4 + cacheLocality × 0.35 + (1 / azCost) × 0.25) × slow start
 *
 * and the ring gives it vnodeCount(weight) = ceil(weight × 150) points (ring.ts). The configured
 * `weight` (0 < w ≤ 10) stays a multiplier: it says how big a node is, the composite how well it
 * serves now. Every term is ≤ 1, so a node never gets more points than its configured weight
 * gives, which is what rings.ts sizes each shared ring for. A node under USABLE_HEALTH gets 0
 * and leaves the ring. Pure: health, locality and time are arguments.
 */
import { USABLE_HEALTH } from '../resilience/node-health.js';
import { vnodeCount } from './ring.js';

export const HEALTH_SHARE = 0.4;
export const LOCALITY_SHARE = 0.35;
export const ZONE_SHARE = 0.25;
/** Locality when the coordinator has no cache signal for a node: neutral, not a penalty. */
export const DEFAULT_CACHE_LOCALITY = 1;
/** azCost of a node in another zone than the gateway's, unless that zone has its own cost. */
export const DEFAULT_OTHER_ZONE_COST = 2.5;

export interface SlowStartOptions {
  /** Time from usable (healthy again, or added) to full weight. */
  readonly rampMs: number;
  /** Share of its weight a node starts with. */
  readonly initial: number;
  /** Equal steps from `initial` to 1: each one is a ring rebuild, so a few, not one per window. */
  readonly steps: number;
}

export const DEFAULT_SLOW_START: SlowStartOptions = { rampMs: 90_000, initial: 0.2, steps: 4 };

const clamp01 = (x: number): number => (x >= 1 ? 1 : x > 0 ? x : 0);

/**
 * health × 0.4 + cacheLocality × 0.35 + (1 / azCost) × 0.25, in [0, 1]. Health and locality are
 * clamped to [0, 1]; azCost must be ≥ 1 (1 is the gateway's own zone), or weights could exceed 1.
 */
export function compositeWeight(health: number, cacheLocality: number, azCost: number): number {
  if (!(azCost >= 1)) throw new RangeError(`azCost must be ≥ 1, got ${azCost}`);
  return clamp01(health) * HEALTH_SHARE + clamp01(cacheLocality) * LOCALITY_SHARE + ZONE_SHARE / azCost;
}

/**
 * azCost of a node: 1 in the gateway's own zone (or when the gateway's zone is not known, so no
 * zone is preferred), else the cost configured for the node's zone, else `otherZoneCost`.
 */
export function zoneCost(
  nodeAz: string,
  gatewayAz: string | undefined,
  zoneCosts: Readonly<Record<string, number>> = {},
  otherZoneCost: number = DEFAULT_OTHER_ZONE_COST,
): number {
  if (gatewayAz === undefined || nodeAz === gatewayAz) return 1;
  return Object.hasOwn(zoneCosts, nodeAz) ? zoneCosts[nodeAz]! : otherZoneCost;
}

/**
 * Share of its weight a node gets `msSinceUsable` after becoming usable: `initial` for the first
 * step, then `steps` equal increments, 1 from `rampMs` on. With the defaults: 0.2 for [0, 22.5 s),
 * 0.4, 0.6, 0.8, then 1 from 90 s. Stepped so the ring changes `steps` times per ramp; each step
 * moves points by ≥ 25% with the defaults, well over the republish threshold (ring-churn.ts).
 * Negative times (clock skew) count as 0.
 */
export function slowStartFactor(msSinceUsable: number, options: Partial<SlowStartOptions> = {}): number {
  const { rampMs, initial, steps } = { ...DEFAULT_SLOW_START, ...options };
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps must be an integer ≥ 1, got ${steps}`);
  if (msSinceUsable >= rampMs) return 1;
  if (!(msSinceUsable > 0)) return clamp01(initial);
  const step = Math.floor((msSinceUsable * steps) / rampMs);
  return clamp01(initial + ((1 - initial) * step) / steps);
}

export interface NodeWeightInput {
  /** The node's configured `weight`, 0 < w ≤ 10: a multiplier on the composite. */
  readonly configWeight: number;
  /** 0-1, from health checks and passive failure counts. */
  readonly health: number;
  /** 0-1; undefined while unknown (DEFAULT_CACHE_LOCALITY). */
  readonly cacheLocality?: number | undefined;
  /** zoneCost() of the node. */
  readonly azCost: number;
  /** Since the node was added or last came back over USABLE_HEALTH; Infinity when long since. */
  readonly msSinceUsable: number;
}

/** The node's ring weight: 0 (off the ring) under USABLE_HEALTH, else ≤ configWeight. */
export function ringWeight(node: NodeWeightInput, slowStart: Partial<SlowStartOptions> = {}): number {
  if (!(node.health >= USABLE_HEALTH)) return 0;
  const locality = node.cacheLocality ?? DEFAULT_CACHE_LOCALITY;
  return node.configWeight * compositeWeight(node.health, locality, node.azCost) * slowStartFactor(node.msSinceUsable, slowStart);
}

/** Relative shave before ceil: ~1000× float noise, far below one point for weights ≤ 10. */
const FLOAT_NOISE = 1e-12;

/**
 * Points the node should own this window (0: off the ring); what ring-churn.ts compares. The
 * weight is shaved by FLOAT_NOISE so products like 3 × 0.2 (0.6000000000000001) × 150 give 90
 * points, not 91; never more than vnodeCount(configWeight), the ring's capacity.
 */
export function ringPoints(node: NodeWeightInput, slowStart: Partial<SlowStartOptions> = {}): number {
  return vnodeCount(ringWeight(node, slowStart) * (1 - FLOAT_NOISE));
}

/** Windows with fewer cache lookups than this leave a node's measured cache locality as it was. */
export const MIN_CACHE_LOOKUPS = 20;

/**
 * Weight of a new window in the measured cache locality. A window of 20-30 lookups is noisy (±0.1
 * at a 30% hit rate): weighed a half, a steady hit rate alone moved nodes past the republish
 * threshold ~100 times an hour in a 10-node cluster; weighed a tenth, about never, and a real
 * change still shows within seconds.
 */
export const LOCALITY_SMOOTHING = 0.1;

/**
 * A node's cache locality measured from its answers' cache header: the window's hit rate, smoothed
 * (each window of at least MIN_CACHE_LOOKUPS weighs `smoothing`); undefined until the first one.
 */
export function nextCacheLocality(previous: number | undefined, lookups: number, hits: number, smoothing = LOCALITY_SMOOTHING): number | undefined {
  if (lookups < MIN_CACHE_LOOKUPS) return previous;
  const rate = Math.min(1, hits / lookups);
  return previous === undefined ? rate : previous + smoothing * (rate - previous);
}
