import { describe, expect, it } from 'vitest';
import { ResponseParser } from '../../src/upstream/h1/response-parser.js';
import { parse, STEPS } from '../helpers/parse-response.js';

describe('ResponseParser', () => {
  it.each(STEPS)('reads a Content-Length answer, whole or in pieces of %i bytes', (step) => {
    const seen = parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b c \r\n\r\nhello', { step });
    expect(seen.heads).toEqual([{ status: 200, headers: ['Content-Length', '5', 'X-A', 'b c'] }]);
    expect(seen.body).toBe('hello');
    expect(seen.ends).toEqual([true]);
  });

  it.each(STEPS)('decodes a chunked answer with extensions and trailers, in pieces of %i bytes', (step) => {
    const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\nA ;x\r\n, world!!!\r\n0\r\nX-T: 1\r\n\r\n';
    const seen = parse(wire, { step });
    expect(seen.body).toBe('hello, world!!!');
    expect(seen.ends).toEqual([true]);
    expect(seen.consumed).toBe(wire.length);
  });

  it.each(STEPS)('ends a chunked answer with no trailers, in pieces of %i bytes', (step) => {
    // No whitespace after a size without extensions (RFC 9112 allows it only before ';').
    expect(() => parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n', { step })).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }));
    expect(parse('HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', { step }).body).toBe('abc');
  });

  it.each(STEPS)('skips 1xx heads, in pieces of %i bytes', (step) => {
    const seen = parse('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', { step });
    expect(seen.heads.map((h) => h.status)).toEqual([204]);
    expect(seen.ends).toEqual([true]);
  });

  it('takes a status line without a reason, empty values, and tabs around values', () => {
    const seen = parse('HTTP/1.1 200\r\nX-Empty:\r\nX-Tab:\t v \t\r\nContent-Length: 0\r\n\r\n');
    expect(seen.heads).toEqual([{ status: 200, headers: ['X-Empty', '', 'X-Tab', 'v', 'Content-Length', '0'] }]);
  });

  it('takes obs-text and inner whitespace in a value as they are', () => {
    const seen = parse('HTTP/1.1 200 OK\r\nX-Name: caf\u00e9 \t\u00ff x\r\nContent-Length: 0\r\n\r\n');
    expect(seen.heads).toEqual([{ status: 200, headers: ['X-Name', 'caf\u00e9 \t\u00ff x', 'Content-Length', '0'] }]);
  });

  it('takes a Content-Length repeated with one value, as a list or in two fields', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\ncontent-length: 2\r\n\r\nokEXTRA').body).toBe('ok');
  });

  it.each(STEPS)('reads sizes with leading zeros past the digit limits, as RFC 9112 allows, in pieces of %i bytes', (step) => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 0000000000000000002\r\n\r\nok', { step }).body).toBe('ok');
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000002\r\nok\r\n00000000000000000\r\n\r\n', { step }).body).toBe('ok');
  });

  it('reads no body after a HEAD, a 204 or a 304, whatever the head says', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { method: 'HEAD' }).ends).toEqual([true]);
    expect(parse('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n').ends).toEqual([true]);
  });

  it('keeps no connection after a 204 that declares a body, which the node may send anyway', () => {
    const keptAfter = (head: string, method = 'GET'): boolean[] => parse(`${head}\r\n`, { method }).ends;
    expect(keptAfter('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n')).toEqual([false]);
    expect(keptAfter('HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n')).toEqual([false]);
    // One that declares none stays, and so do a 304 and the answer to a HEAD: their length is the representation's.
    expect(keptAfter('HTTP/1.1 204 No Content\r\n')).toEqual([true]);
    expect(keptAfter('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n')).toEqual([true]);
    expect(keptAfter('HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n')).toEqual([true]);
    expect(keptAfter('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n', 'HEAD')).toEqual([true]);
    expect(keptAfter('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n', 'HEAD')).toEqual([true]);
  });

  it('keeps the connection by the version and Connection', () => {
    expect(parse('HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n').ends).toEqual([false]);
    expect(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').ends).toEqual([false]);
    expect(parse('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n').ends).toEqual([true]);
    // HTTP/1.0 knows no chunked framing: read as such, but the connection closes after it (RFC 9112 §6.1).
    expect(parse('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n').ends).toEqual([false]);
  });

  it('reads a body without length to the close, and never keeps that connection', () => {
    const parser = new ResponseParser({ onHead: () => true, onBody: () => true, onEnd: (keepAlive) => ends.push(keepAlive) }, 1024);
    const ends: boolean[] = [];
    parser.expect('GET');
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\n\r\nsome bytes'));
    expect(ends).toEqual([]);
    expect(parser.closed()).toBe(true);
    expect(ends).toEqual([false]);
    // A close anywhere else truncates the answer.
    parser.expect('GET');
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc'));
    expect(parser.closed()).toBe(false);
  });

  it('stops at a pause asked for at the head, before any body byte of the same read', () => {
    const bodies: string[] = [];
    const parser = new ResponseParser({ onHead: () => false, onBody: (chunk) => bodies.push(chunk.toString()) > 0, onEnd() {} }, 1024);
    parser.expect('GET');
    const wire = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
    const first = parser.execute(wire);
    expect(wire.subarray(first).toString()).toBe('abc');
    expect(bodies).toEqual([]);
    expect(parser.execute(wire.subarray(first))).toBe(3);
    expect(bodies).toEqual(['abc']);
    expect(parser.idle).toBe(true);
    // A head that ends its answer (no body) ends it, paused or not.
    parser.expect('GET');
    const head = 'HTTP/1.1 204 No Content\r\n\r\n';
    expect(parser.execute(Buffer.from(`${head}EXTRA`))).toBe(head.length);
    expect(parser.idle).toBe(true);
  });

  it('stops at a pause and after the end, leaving the rest to the caller', () => {
    const parser = new ResponseParser({ onHead: () => true, onBody: () => false, onEnd() {} }, 1024);
    parser.expect('GET');
    const wire = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\nEXTRA');
    const first = parser.execute(wire);
    expect(wire.subarray(first).toString()).toMatch(/^\r\n2\r\ncd/);
    expect(parser.inBody).toBe(true);
    const second = first + parser.execute(wire.subarray(first));
    const third = second + parser.execute(wire.subarray(second));
    expect(parser.idle).toBe(true);
    expect(wire.subarray(third).toString()).toBe('EXTRA');
  });

  it.each([
    ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a CR alone after the status line', 'HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n', 'HPE_STRICT'],
    ['a CR inside a value', 'HTTP/1.1 200 OK\r\nX-A: b\rc\r\nContent-Length: 0\r\n\r\n', 'HPE_STRICT'],
    ['an LF inside a value', 'HTTP/1.1 200 OK\r\nX-A: b\nc\r\nContent-Length: 0\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a NUL inside a value', 'HTTP/1.1 200 OK\r\nX-A: b\u0000c\r\nContent-Length: 0\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a DEL ending a value', 'HTTP/1.1 200 OK\r\nX-A: bc\u007f\r\nContent-Length: 0\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['two Content-Lengths that disagree', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['a list that disagrees', 'HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['a Content-Length of 16 digits', 'HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['a signed Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['Content-Length with chunked', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_UNEXPECTED_CONTENT_LENGTH'],
    ['a coding other than chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING'],
    ['chunked twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 'HPE_INVALID_TRANSFER_ENCODING'],
    ['HTTP/2 in a status line', 'HTTP/2.0 200 OK\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['a head ending among its status digits', 'HTTP/1.1 20\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['an unasked upgrade', 'HTTP/1.1 101 Switching Protocols\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['a huge chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['a huge chunk size after leading zeros', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000fffffffffffffff\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['a Content-Length of 16 digits after leading zeros', 'HTTP/1.1 200 OK\r\nContent-Length: 001000000000000000\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['chunk data without its CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n', 'HPE_STRICT'],
    ['a head over the limit', `HTTP/1.1 200 OK\r\nX-A: ${'a'.repeat(2000)}\r\n\r\n`, 'HPE_HEADER_OVERFLOW'],
    ['a chunk line over the limit', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(5000)}\r\n`, 'HPE_CHUNK_EXTENSIONS_OVERFLOW'],
    ['a control character in a trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\x00b\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a trailer line without a name', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n: 2\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    // Read to the first CRLFCRLF, the section would have swallowed the answer after it.
    ['trailers ended by bare LFs', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\n\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['a bare CR after the last chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rX\r\n\r\n', 'HPE_STRICT'],
  ])('refuses %s', (_what, wire, code) => {
    for (const step of STEPS) expect(() => parse(wire, { step }), `step ${step}`).toThrow(expect.objectContaining({ code }));
  });
});
