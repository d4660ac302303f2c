import { describe, expect, it } from 'vitest';
import { classifyUpstreamError } from '../../src/acceptor/upstream-errors.js';

describe('upstream error classification', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, 'ERR_UPSTREAM_CONNECT'],
    [{ code: 'UND_ERR_SOCKET' }, 'ERR_UPSTREAM_CONNECT'],
    [{ code: 'ECONNRESET' }, 'ERR_UPSTREAM_CONNECT'],
    [{ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'ERR_UPSTREAM_TIMEOUT'],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'ERR_UPSTREAM_TIMEOUT'],
    [{ code: 'UND_ERR_BODY_TIMEOUT' }, 'ERR_UPSTREAM_TIMEOUT'],
    [{ name: 'HTTPParserError' }, 'ERR_UPSTREAM_PROTOCOL'],
    [{ code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' }, 'ERR_UPSTREAM_PROTOCOL'],
    [{ code: 'ERR_BODY_TOO_LARGE' }, 'ERR_BODY_TOO_LARGE'],
    [{ code: 'SELF_SIGNED_CERT_IN_CHAIN' }, 'ERR_UPSTREAM_TLS'],
    [{ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'ERR_UPSTREAM_TLS'],
    [{ code: 'CERT_HAS_EXPIRED' }, 'ERR_UPSTREAM_TLS'],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'ERR_UPSTREAM_TLS'],
    [{ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }, 'ERR_UPSTREAM_TLS'],
    [{ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }, 'ERR_UPSTREAM_TLS'],
    [undefined, 'ERR_UPSTREAM_CONNECT'],
  ])('%j → %s', (err, code) => {
    expect(classifyUpstreamError(err)).toBe(code);
  });
});
