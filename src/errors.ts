/**
 * Every error the gateway answers to a client, with its HTTP status and a stable code.
 * Match on `code`, never on `instanceof`: errors crossing threads lose their prototype.
 * The README's error table is checked against this registry by test/errors.test.ts.
 */
export const ERRORS = {
  ERR_BAD_FRAMING: {
    status: 400,
    message: 'ambiguous or unsupported request framing (Content-Length / Transfer-Encoding)',
  },
  ERR_BAD_HOST: { status: 400, message: 'request must carry exactly one Host header' },
  ERR_BODY_TOO_LARGE: { status: 413, message: 'request body exceeds the configured limit' },
  ERR_HEADERS_TOO_LARGE: { status: 431, message: 'request headers exceed the configured limit' },
  ERR_INVALID_TENANT: {
    status: 400,
    message: 'tenant id must be 1-128 bytes of [A-Za-z0-9._:-]',
  },
  ERR_MISSING_TENANT: { status: 400, message: 'request has no tenant id header' },
  ERR_NO_ROUTE: { status: 404, message: 'no route matches this path' },
  ERR_RING_EMPTY: { status: 503, message: 'the cluster for this route has no usable node' },
  ERR_SHUTTING_DOWN: { status: 503, message: 'the gateway is draining and accepts no new requests' },
  ERR_UPSTREAM_CONNECT: { status: 502, message: 'the upstream node refused or reset the connection' },
  ERR_UPSTREAM_PROTOCOL: { status: 502, message: 'the upstream node sent a malformed response' },
  ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'the upstream node did not answer in time' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** The JSON body answered for a code: `{"error": "...", "code": "ERR_..."}`. */
export function errorBody(code: ErrorCode): string {
  return JSON.stringify({ error: ERRORS[code].message, code });
}
