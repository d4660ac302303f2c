/**
 * What a retry may follow: a connection refused (or that never opened otherwise: no route to the
 * host, a name that did not resolve) or reset before the answer's head, a try that timed out, or
 * these statuses. Apart from the config schema that validates them, so that the acceptor threads,
 * which count retries by reason, do not load the schema library.
 */
export const RETRY_REASONS = ['refused', 'reset', 'timeout', '502', '503', '504'] as const;
export type RetryReason = (typeof RETRY_REASONS)[number];
