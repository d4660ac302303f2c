import type { AnsweredCode } from '../errors.js';

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
