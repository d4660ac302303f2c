/**
 * Every error code the gateway answers or logs, with its HTTP status (null: logged only, never
 * answered), its message, and whether a retry of the same request could succeed (another node,
 * another instance, or later). Match on `code`, never on `instanceof`: errors crossing threads lose
 * their prototype. The README's error table is checked against this registry by test/errors.test.ts.
 */
export const ERRORS = {
  ERR_ACCEPTOR_EXIT: { status: null, retryable: true, message: 'an acceptor thread exited; the coordinator restarts it' },
  ERR_ACCEPTOR_START: { status: null, retryable: false, message: 'an acceptor thread could not start' },
  ERR_ADMIN_FORBIDDEN: {
    status: 403,
    retryable: false,
    message: 'the admin endpoints need GATEWAY_ADMIN_TOKEN when the admin server does not listen on loopback',
  },
  ERR_ADMIN_UNAUTHORIZED: { status: 401, retryable: false, message: 'missing or wrong admin bearer token' },
  ERR_BAD_FRAMING: {
    status: 400,
    retryable: false,
    message: 'ambiguous or unsupported request framing (Content-Length / Transfer-Encoding)',
  },
  ERR_BAD_HEADER: {
    status: 400,
    retryable: false,
    message: 'a request header or the request target holds a character that cannot be forwarded unchanged (a control character, or bytes that are not UTF-8)',
  },
  ERR_BAD_HOST: { status: 400, retryable: false, message: 'request must carry exactly one valid Host header (host[:port])' },
  ERR_BAD_PATH: { status: 400, retryable: false, message: 'request path must start with "/", hold no "#" and not climb above the root' },
  ERR_BAD_PUSH: { status: 400, retryable: false, message: 'invalid control-plane push' },
  ERR_BODY_TOO_LARGE: { status: 413, retryable: false, message: 'request body exceeds the configured limit' },
  ERR_CIRCUIT_OPEN: {
    status: 503,
    retryable: true,
    message: "the circuit breaker of every usable node of the route's cluster is open",
  },
  ERR_CONFIG: { status: null, retryable: false, message: 'invalid configuration' },
  ERR_HEADERS_TOO_LARGE: { status: 431, retryable: false, message: 'request headers exceed the configured limit' },
  ERR_IDEMPOTENCY_IN_FLIGHT: { status: 409, retryable: true, message: 'a request with this Idempotency-Key is still in flight' },
  ERR_IDEMPOTENCY_KEY_MISSING: {
    status: 400,
    retryable: false,
    message: 'this route needs an Idempotency-Key header (1-255 bytes) on POST, PUT, PATCH and DELETE',
  },
  ERR_IDEMPOTENCY_KEY_REPEATED: { status: 400, retryable: false, message: 'Idempotency-Key came more than once: it names no one key' },
  ERR_IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    retryable: false,
    message: 'this Idempotency-Key was used for a request with another method, path or body',
  },
  ERR_IDEMPOTENCY_TABLE_FULL: { status: 503, retryable: true, message: 'no room for another Idempotency-Key in flight' },
  ERR_INVALID_TENANT: {
    status: 400,
    retryable: false,
    message: 'tenant id must be 1-128 bytes of [A-Za-z0-9._:-]',
  },
  ERR_LIMIT_HEADER_REPEATED: { status: 400, retryable: false, message: "the header the route's rate limit counts by came more than once" },
  ERR_LISTEN: { status: null, retryable: false, message: 'cannot listen on the configured host and port' },
  ERR_MALFORMED_REQUEST: { status: 400, retryable: false, message: 'the admin server cannot read the request as HTTP/1.1' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, retryable: false, message: 'the admin path does not take this method; see Allow' },
  ERR_METHOD_NOT_SUPPORTED: { status: 501, retryable: false, message: 'CONNECT and TRACE are not forwarded: the gateway opens no tunnels and echoes no requests' },
  ERR_METRICS: { status: 500, retryable: true, message: 'metrics collection failed' },
  ERR_MISSING_TENANT: { status: 400, retryable: false, message: 'request has no tenant id header' },
  ERR_NO_ROUTE: { status: 404, retryable: false, message: 'no route matches this path' },
  ERR_PUSH_BUFFER_FULL: {
    status: 503,
    retryable: true,
    message: 'the admin server holds as many bytes of pushes being read as it takes at once; see Retry-After',
  },
  ERR_PUSH_FROM_FUTURE: { status: 400, retryable: false, message: 'push timestamp is more than 2 s ahead of the gateway clock' },
  ERR_PUSH_OUT_OF_ORDER: { status: 409, retryable: false, message: 'push is older than the last one applied' },
  ERR_RATE_LIMITED: { status: 429, retryable: true, message: "the route's rate limit for this client is spent; see Retry-After" },
  ERR_RELOAD_FAILED: { status: 400, retryable: false, message: 'the config could not be reloaded; the running config stays' },
  ERR_REQUEST_TIMEOUT: { status: 408, retryable: true, message: 'the admin server did not get the request head, or the whole request, in time' },
  ERR_RING_EMPTY: { status: 503, retryable: true, message: 'the cluster for this route has no usable node' },
  ERR_SHUTTING_DOWN: { status: 503, retryable: true, message: 'the gateway is draining and accepts no new requests' },
  ERR_UPSTREAM_CONNECT: { status: 502, retryable: true, message: 'the upstream node refused or reset the connection' },
  ERR_UPSTREAM_PROTOCOL: { status: 502, retryable: true, message: 'the upstream node sent a malformed response' },
  ERR_UPSTREAM_SATURATED: { status: 503, retryable: true, message: "every usable node of the route's cluster holds its maxInFlight requests" },
  ERR_UPSTREAM_TIMEOUT: { status: 504, retryable: true, message: 'the upstream node did not answer in time' },
  ERR_UPSTREAM_TLS: {
    status: 502,
    retryable: true,
    message: "the TLS handshake with the upstream node failed (its certificate was not trusted or not for its name, or it refused the gateway's)",
  },
  ERR_UWS_FALLBACK: { status: null, retryable: false, message: 'uWebSockets.js fell back to its pure-JS server' },
} as const satisfies Record<string, { status: number | null; retryable: boolean; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** Codes the gateway answers to a client, with the status it answers them with. */
export type AnsweredCode = { [C in ErrorCode]: (typeof ERRORS)[C]['status'] extends number ? C : never }[ErrorCode];

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export const ANSWERED_CODES = ERROR_CODES.filter((code): code is AnsweredCode => ERRORS[code].status !== null);

/** The JSON body answered for a code: `{"error": "...", "code": "ERR_..."}`. */
export function errorBody(code: AnsweredCode): string {
  return JSON.stringify({ error: ERRORS[code].message, code });
}
