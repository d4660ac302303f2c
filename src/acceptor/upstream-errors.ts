import type { AnsweredCode } from '../errors.js';
import { retryReasonIndex } from '../resilience/retry-policy.js';

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const PROTOCOL = new Set(['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_RES_EXCEEDED_MAX_SIZE', 'UND_ERR_INFO']);

/** Maps what undici (or our request-body stream) failed with to the code answered to the client. */
export function classifyUpstreamError(err: unknown): AnsweredCode {
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  if (code === 'ERR_BODY_TOO_LARGE') return 'ERR_BODY_TOO_LARGE';
  if (typeof code === 'string' && TIMEOUTS.has(code)) return 'ERR_UPSTREAM_TIMEOUT';
  // llhttp failures surface as HTTPParserError, which carries no code.
  if (name === 'HTTPParserError' || (typeof code === 'string' && (PROTOCOL.has(code) || code.startsWith('HPE_')))) {
    return 'ERR_UPSTREAM_PROTOCOL';
  }
  return 'ERR_UPSTREAM_CONNECT';
}

const RESETS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const TRY_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const REFUSED = retryReasonIndex('refused');
const RESET = retryReasonIndex('reset');
const TIMEOUT = retryReasonIndex('timeout');

/**
 * Which retry reason (RETRY_REASONS index) a try that failed before its answer's head failed
 * for; -1: none a retry may follow (a malformed answer, our own body's failure).
 */
export function retryReasonOf(err: unknown): number {
  const { code } = (err ?? {}) as { code?: unknown };
  if (typeof code !== 'string') return -1;
  if (code === 'ECONNREFUSED') return REFUSED;
  if (RESETS.has(code)) return RESET;
  return TRY_TIMEOUTS.has(code) ? TIMEOUT : -1;
}

/** The retry reason of an answer's status: 502, 503 or 504; -1 for any other. */
export function statusRetryReason(status: number): number {
  return status >= 502 && status <= 504 ? retryReasonIndex(String(status) as '502' | '503' | '504') : -1;
}
