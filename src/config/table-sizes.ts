import { idempotencyTableBytes } from '../shm/idempotency-table.js';
import { inflightTableBytes } from '../shm/inflight-table.js';
import { MAX_TABLE_BYTES } from '../shm/bucket-table.js';
import { ConfigError } from './config-error.js';
import { settingName } from './env-vars.js';
import type { Settings } from './schema.js';

/** The shared tables two settings size together: how many entries, and the byte slot each has. */
const SIZED_TABLES = [
  { entries: 'multiplexEntries', slotBytes: 'multiplexMaxResponseBytes', bytesOf: inflightTableBytes },
  { entries: 'idempotencyEntries', slotBytes: 'idempotencyMaxResponseBytes', bytesOf: idempotencyTableBytes },
] as const;

/**
 * Each setting has its own bounds, but the table their product sizes must fit what a thread can
 * view as one typed array: at start-up it would fail as a RangeError naming neither setting.
 */
export function checkTableSizes(settings: Settings, source: string, overrides: Record<string, unknown>): void {
  for (const { entries, slotBytes, bytesOf } of SIZED_TABLES) {
    const bytes = bytesOf(settings[entries], settings[slotBytes]);
    if (bytes <= MAX_TABLE_BYTES) continue;
    throw new ConfigError(
      `invalid config (${source}):\n  ${settingName(entries, overrides)} = ${settings[entries]}: with ${settingName(slotBytes, overrides)} = ${settings[slotBytes]}, its shared table would take ${bytes} bytes, over the ${MAX_TABLE_BYTES} one table can have`,
    );
  }
}
