import { describe, expect, it } from 'vitest';
import { classifyUpstreamError, retryReasonOf } from '../../src/acceptor/upstream-errors.js';
import { RETRY_REASONS } from '../../src/resilience/retry-reasons.js';

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

describe('retry reason of a failed try', () => {
  it.each([
    [{ code: 'ECONNREFUSED', syscall: 'connect' }, 'refused'],
    // No route to the node's host or network: connect() failed, nothing was sent.
    [{ code: 'EHOSTUNREACH', syscall: 'connect' }, 'refused'],
    [{ code: 'ENETUNREACH', syscall: 'connect' }, 'refused'],
    // Every address of a name failed (happy eyeballs' AggregateError carries the first one's code, no syscall).
    [{ code: 'EHOSTUNREACH' }, 'refused'],
    // The node's name did not resolve (the system's resolver, or GATEWAY_DNS_SERVERS): no connection was opened.
    [{ code: 'ENOTFOUND', syscall: 'getaddrinfo' }, 'refused'],
    [{ code: 'EAI_AGAIN', syscall: 'getaddrinfo' }, 'refused'],
    [{ code: 'ENOTFOUND', syscall: 'queryA' }, 'refused'],
    [{ code: 'ESERVFAIL', syscall: 'queryAaaa' }, 'refused'],
    // An open connection's read or write that met the host gone: the node may have had the request.
    [{ code: 'EHOSTUNREACH', syscall: 'read' }, 'reset'],
    [{ code: 'ENETUNREACH', syscall: 'write' }, 'reset'],
    [{ code: 'ECONNRESET', syscall: 'read' }, 'reset'],
    [{ code: 'UND_ERR_SOCKET' }, 'reset'],
    [{ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'timeout'],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'timeout'],
    [{ code: 'HPE_INVALID_STATUS' }, null],
    [{ code: 'CERT_HAS_EXPIRED' }, null],
    [{ code: 'UND_ERR_INVALID_ARG' }, null],
    [undefined, null],
  ])('%j → %s', (err, reason) => {
    expect(retryReasonOf(err)).toBe(reason === null ? -1 : RETRY_REASONS.indexOf(reason as (typeof RETRY_REASONS)[number]));
  });
});
