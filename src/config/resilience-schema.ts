import { z } from 'zod';
import { pathSchema, positiveMs } from './primitives.js';
import { RETRY_REASONS } from '../resilience/retry-reasons.js';

/**
 * The config of the resilience rules (src/resilience/): a cluster's active health checks and
 * circuit breaker, a route's retries. Part of the file schema (schema.ts).
 */

/**
 * Retries of a route's requests on another node of its cluster. Only requests that are safe to
 * send twice (idempotent method or Idempotency-Key, body read whole) and only before the client
 * got any byte; within the cluster's retry budget and GATEWAY_UPSTREAM_TIMEOUT_MS in all.
 */
export const retriesSchema = z
  .strictObject({
    max: z.number().int().min(0).max(10).default(2),
    on: z.array(z.enum(RETRY_REASONS)).max(RETRY_REASONS.length).default(['refused', 'reset', 'timeout']),
    /** Full jitter: the wait before retry n (from 0) is random(0, min(backoffCapMs, backoffBaseMs × 2^n)). */
    backoffBaseMs: z.number().int().min(0).max(60_000).default(25),
    backoffCapMs: z.number().int().min(0).max(60_000).default(250),
    /** Each try's wait for the answer's head, from when the node has the request whole; unset: whatever is left of GATEWAY_UPSTREAM_TIMEOUT_MS. */
    perTryTimeoutMs: positiveMs.optional(),
  })
  .refine((r) => r.backoffBaseMs <= r.backoffCapMs, { message: 'backoffBaseMs must not exceed backoffCapMs', path: ['backoffBaseMs'] });


/** Active health checks of a cluster's nodes, by the coordinator (one prober for all threads). */
export const healthCheckSchema = z
  .strictObject({
    path: pathSchema,
    intervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
    /** Up to this much random delay is added to every interval, so checks of many nodes do not align. */
    jitterMs: z.number().int().min(0).max(3_600_000).default(3_000),
    timeoutMs: z.number().int().min(1).max(600_000).default(2_000),
    unhealthyThreshold: z.number().int().min(1).max(100).default(3),
    healthyThreshold: z.number().int().min(1).max(100).default(2),
    /** Statuses that count as a passed check, inclusive. */
    expectedStatus: z
      .strictObject({ min: z.number().int().min(100).max(599), max: z.number().int().min(100).max(599) })
      .refine((range) => range.min <= range.max, 'min must not exceed max')
      .default({ min: 200, max: 399 }),
    /** Checks keep their connection to the node from one to the next (Envoy's default); false: a new one each time, as HAProxy does. */
    reuseConnection: z.boolean().default(true),
  })
  .refine((check) => check.timeoutMs < check.intervalMs, { message: 'timeoutMs must be below intervalMs', path: ['timeoutMs'] });

/**
 * Each node's circuit breaker (resilience/breaker.ts): score = 0.6 × failure rate + 0.4 × p99 /
 * reference p99, open at `threshold`; half-open after `openMs` (doubling per open in a row, up to
 * `maxOpenMs`) with `probes` trial requests.
 */
export const breakerSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    // Every judged node scores at least 0.4 (its latency term): a threshold there would open them all.
    threshold: z.number().gt(0.4, 'must be above 0.4, the score of a healthy node').max(100).default(0.7),
    /** The failure rate is over this sliding window. */
    windowMs: z.number().int().min(100).max(600_000).default(1_000),
    minRequests: z.number().int().min(1).max(1_000_000).default(20),
    /** The latency histogram's counts halve over this: one slow answer among many cannot move p99. */
    latencyHalfLifeMs: z.number().int().min(100).max(3_600_000).default(2_000),
    minLatencySamples: z.number().int().min(1).max(1_000_000).default(100),
    /** A fixed baseline p99 (ms); unset: learned per node, slowly. */
    baselineP99Ms: z.number().gt(0).max(600_000).optional(),
    /** p99 is never compared with less than this (ms): a fast node's scheduling jitter (a busy host, a GC pause) is not "3× slower". */
    minBaselineMs: z.number().min(0).max(600_000).default(25),
    baselineHalfLifeMs: z.number().int().min(1_000).max(86_400_000).default(60_000),
    openMs: z.number().int().min(100).max(3_600_000).default(5_000),
    maxOpenMs: z.number().int().min(100).max(3_600_000).default(60_000),
    probes: z.number().int().min(1).max(1_000).default(3),
  })
  .refine((b) => b.openMs <= b.maxOpenMs, { message: 'openMs must not exceed maxOpenMs', path: ['openMs'] });

