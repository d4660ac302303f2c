import type { ErrorCode } from '../errors.js';

/** A config the gateway refuses: its message names every bad field and value. */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG' satisfies ErrorCode;
}
