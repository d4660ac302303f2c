import type { Settings } from './schema.js';

/** Zone affinity applies when the gateway knows its zone and it was not turned off. */
export function zoneAffinity(settings: Readonly<Settings>): boolean {
  return settings.zone !== undefined && settings.zoneAffinity === 'hard';
}
