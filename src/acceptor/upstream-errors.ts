import type { AnsweredCode } from '../errors.js';
import { retryReasonIndex } from '../resilience/retry-policy.js';
import { QUEUE_TIMEOUT, upstreamError } from '../upstream/dispatcher.js';

const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', QUEUE_TIMEOUT]);
const PROTOCOL = new Set(['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_RES_EXCEEDED_MAX_SIZE', 'UND_ERR_INFO']);
/** OpenSSL's certificate verification failures, as Node names them (X509_V_ERR_* without the prefix). */
const CERTIFICATE = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID', 'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'HOSTNAME_MISMATCH',
]);

/**
 * A failed TLS handshake: a certificate not verified, one not for the node's name
 * (ERR_TLS_CERT_ALTNAME_INVALID), an alert from the node (ERR_SSL_*, e.g. it wanted a client
 * certificate; or no TLS there at all, ERR_SSL_WRONG_VERSION_NUMBER). Under TLS 1.3 a node that
 * refuses the gateway's certificate may only close the connection: that is a reset like any other.
 */
function isTlsFailure(code: string): boolean {
  return CERTIFICATE.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_');
}

/** Maps what undici (or our request-body stream) failed with to the code answered to the client. */
export function classifyUpstreamError(err: unknown): AnsweredCode {
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  if (code === 'ERR_BODY_TOO_LARGE') return 'ERR_BODY_TOO_LARGE';
  // The request's own head could not be written (both clients refuse it so): the client's doing, not the node's.
  if (code === 'UND_ERR_INVALID_ARG') return 'ERR_BAD_HEADER';
  if (typeof code === 'string' && TIMEOUTS.has(code)) return 'ERR_UPSTREAM_TIMEOUT';
  if (typeof code === 'string' && isTlsFailure(code)) return 'ERR_UPSTREAM_TLS';
  // llhttp failures surface as HTTPParserError, which carries no code.
  if (name === 'HTTPParserError' || (typeof code === 'string' && (PROTOCOL.has(code) || code.startsWith('HPE_')))) {
    return 'ERR_UPSTREAM_PROTOCOL';
  }
  return 'ERR_UPSTREAM_CONNECT';
}

/**
 * What connect() fails with when nothing there could be reached: nothing listens, no route to the
 * host or its network. All but the first also end an open connection (a read or write whose
 * retransmits or keep-alive probes met the host gone): then the node may have had the request.
 */
const REFUSALS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
const RESETS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const TRY_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', QUEUE_TIMEOUT]);
const REFUSED = retryReasonIndex('refused');
const RESET = retryReasonIndex('reset');
const TIMEOUT = retryReasonIndex('timeout');

/**
 * Which retry reason (RETRY_REASONS index) a try that failed before its answer's head failed
 * for; -1: none a retry may follow (a malformed answer, our own body's failure). `refused` also
 * covers a connection that never opened otherwise, nothing sent: to an unreachable host, or to a
 * node whose name did not resolve (the lookup's error: getaddrinfo's, or a query's to GATEWAY_DNS_SERVERS).
 */
export function retryReasonOf(err: unknown): number {
  const { code, syscall } = (err ?? {}) as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string') return -1;
  if (typeof syscall === 'string' && (syscall === 'getaddrinfo' || syscall.startsWith('query'))) return REFUSED;
  // connect()'s own, or happy eyeballs' AggregateError (every address's connect failed: no syscall).
  if (REFUSALS.has(code)) return code === 'ECONNREFUSED' || syscall === undefined || syscall === 'connect' ? REFUSED : RESET;
  if (RESETS.has(code)) return RESET;
  return TRY_TIMEOUTS.has(code) ? TIMEOUT : -1;
}

/** The retry reason of an answer's status: 502, 503 or 504; -1 for any other. */
export function statusRetryReason(status: number): number {
  return status >= 502 && status <= 504 ? retryReasonIndex(String(status) as '502' | '503' | '504') : -1;
}

/**
 * An answer's head that is not a final one: true for a 1xx (informational: not forwarded, the
 * final head follows). Any status outside 100–599 is no HTTP status (RFC 9110 §15) but undici and
 * the own client let one through: a malformed answer, whose try is aborted (false).
 */
export function skipInformational(status: number, abort: ((err: Error) => void) | null): boolean {
  if (status >= 100 && status < 200) return true;
  abort?.(upstreamError('HPE_INVALID_STATUS', `status ${status} is outside 100-599`));
  return false;
}
