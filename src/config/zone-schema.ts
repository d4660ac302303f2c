import { z } from 'zod';
import { zoneNameSchema } from './primitives.js';

/**
 * Where the gateway runs and what reaching other zones costs (issue 10): nodes of other zones
 * cost more, and with hard affinity take no requests while the local ones are healthy enough.
 * Spread into schema.ts's settings.
 */
export const zoneSettings = {
  /** The zone this gateway runs in: nodes of other zones cost more, and (with zoneAffinity hard) take no requests. */
  zone: zoneNameSchema.optional(),
  /** `hard`: requests stay in the gateway's zone while its nodes' mean health is at least zoneFallbackHealth. */
  zoneAffinity: z.enum(['hard', 'off']).default('hard'),
  zoneFallbackHealth: z.number().min(0).max(1).default(0.2),
  /** azCost of a node in another zone, unless zoneCosts names that zone. */
  otherZoneCost: z.number().min(1).max(1000).default(2.5),
  /** Per other zone, its azCost; the env var takes `zone=cost,zone=cost`. */
  zoneCosts: z.record(zoneNameSchema, z.number().min(1).max(1000)).default({}),
};

/** Their env vars, spread into schema.ts's ENV_VARS. */
export const ZONE_ENV_VARS = {
  GATEWAY_ZONE: { key: 'zone', kind: 'string' },
  GATEWAY_ZONE_AFFINITY: { key: 'zoneAffinity', kind: 'string' },
  GATEWAY_ZONE_FALLBACK_HEALTH: { key: 'zoneFallbackHealth', kind: 'number' },
  GATEWAY_OTHER_ZONE_COST: { key: 'otherZoneCost', kind: 'number' },
  GATEWAY_ZONE_COSTS: { key: 'zoneCosts', kind: 'pairs' },
} as const;
