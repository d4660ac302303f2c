import { z } from 'zod';

/**
 * The access log's settings (issue 14): a JSON line per request from the acceptor that answered
 * it. Spread into schema.ts's settings.
 */
export const accessLogSettings = {
  /** `on`: every request (sampled by accessLogSample); `errors`: only answers of 5xx or with an ERR_ code, all of them; `off`: none. */
  accessLog: z.enum(['off', 'on', 'errors']).default('on'),
  /** Share of the requests that are not errors logged with `on` (0 to 1); errors are always logged. */
  accessLogSample: z.number().min(0).max(1).default(1),
};

/** Their env vars, spread into schema.ts's ENV_VARS. */
export const ACCESS_LOG_ENV_VARS = {
  GATEWAY_ACCESS_LOG: { key: 'accessLog', kind: 'string' },
  GATEWAY_ACCESS_LOG_SAMPLE: { key: 'accessLogSample', kind: 'number' },
} as const;
