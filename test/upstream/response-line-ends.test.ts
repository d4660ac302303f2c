import { describe, expect, it } from 'vitest';
import { parse, STEPS } from '../helpers/parse-response.js';

/** Each way of cutting `wire`: in pieces of each step, and in two at each place. */
const cuttings = (wire: string): { step?: number; cut?: number }[] => [...STEPS.map((step) => ({ step })), ...Array.from({ length: wire.length - 1 }, (_, i) => ({ cut: i + 1 }))];

/** Line ends a response parser never takes, refused whether the answer came whole or cut anywhere. */
describe('ResponseParser line ends', () => {
  it.each(STEPS)('refuses a head with bare LF line ends as it comes, never waiting for a CRLF CRLF, in pieces of %i bytes', (step) => {
    // RFC 9112 §2.2 lets a recipient refuse a bare LF; waiting for the CRLF CRLF such a head never
    // sends held the request until the node's timeout (a 504), though the answer had come.
    const hpe = expect.objectContaining({ code: expect.stringMatching(/^HPE_/) });
    expect(() => parse('HTTP/1.1 200 OK\nContent-Length: 0\n\n\r\n\r\n', { step })).toThrow(hpe);
    expect(() => parse('HTTP/1.1 200 OK\nContent-Length: 2\n\nok', { step })).toThrow(hpe);
    expect(() => parse('HTTP/1.1 200 OK\r\nContent-Length: 2\n\nok', { step })).toThrow(hpe);
    expect(() => parse('\nHTTP/1.1 200 OK\r\n', { step })).toThrow(hpe);
    // A CRLF split between two reads is no bare LF.
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { step }).body).toBe('ok');
  });

  it('refuses a bare LF in a chunk line or the trailers as it comes, never waiting for a CRLF, however the answer is cut', () => {
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    // Nothing follows: the CRLF looked for never comes, and only the node's timeout ended the wait.
    for (const [rest, code] of [
      ['3\n', 'HPE_INVALID_CHUNK_SIZE'],
      ['3\nabc', 'HPE_INVALID_CHUNK_SIZE'],
      ['3\r\nabc\r\n0\n', 'HPE_INVALID_CHUNK_SIZE'],
      ['0\r\n\n', 'HPE_INVALID_HEADER_TOKEN'],
      ['0\r\nX: y\n\n', 'HPE_INVALID_HEADER_TOKEN'],
      ['0\r\nX: y\r\n\n', 'HPE_INVALID_HEADER_TOKEN'],
    ] as const) {
      for (const cutting of cuttings(chunked + rest)) expect(() => parse(chunked + rest, cutting), `${JSON.stringify(rest)} ${JSON.stringify(cutting)}`).toThrow(expect.objectContaining({ code }));
    }
    // A CRLF split between two reads is no bare LF.
    for (const [rest, body] of [
      ['5;a=b\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n', 'helloabc'],
      ['3\r\nabc\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n', 'abc'],
    ] as const) {
      for (const cutting of cuttings(chunked + rest)) expect(parse(chunked + rest, cutting), JSON.stringify(cutting)).toMatchObject({ body, ends: [true], consumed: chunked.length + rest.length });
    }
  });

  it('refuses a bare CR in a chunk line as it comes, with the code the whole line gets, however the answer is cut', () => {
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    for (const rest of ['5\rx', '5\r\r', '5;a=b\rc', '3\r\nabc\r\n0\rX']) {
      const wire = chunked + rest;
      // Whole with its line's CRLF, the line is refused by what it holds.
      expect(() => parse(`${wire}\r\n`), JSON.stringify(rest)).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }));
      // Without it, the CRLF looked for never comes: refused as the bytes come, the cut right after the CR included.
      for (const cutting of cuttings(wire)) {
        expect(() => parse(wire, cutting), `${JSON.stringify(rest)} ${JSON.stringify(cutting)}`).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }));
      }
    }
    // A CR last in a read may be a CRLF's first half: the chunk line waits for the next byte.
    expect(parse(`${chunked}5\r`)).toMatchObject({ body: '', ends: [] });
  });

  it('refuses a bare CR in a head or trailers as it comes, with the code the whole section gets there, however the answer is cut', () => {
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n';
    for (const [wire, code] of [
      ['HTT\rP/1.1 200 OK', 'HPE_INVALID_CONSTANT'],
      ['HTTP/1.1 2\r0 OK', 'HPE_INVALID_STATUS'],
      ['HTTP/1.1 \rXY OK', 'HPE_INVALID_STATUS'],
      ['HTTP/1.1 2\r\rX', 'HPE_INVALID_STATUS'],
      ['HTTP/1.1 \rX\r\nY', 'HPE_INVALID_STATUS'],
      ['HTTP/1.1 200\rX', 'HPE_STRICT'],
      ['HTTP/1.1 200 O\rK', 'HPE_STRICT'],
      ['HTTP/1.1 200 OK\r\nX-\rA: b', 'HPE_INVALID_HEADER_TOKEN'],
      ['HTTP/1.1 200 OK\r\n\rX-A: b', 'HPE_INVALID_HEADER_TOKEN'],
      ['HTTP/1.1 200 OK\r\nX-A:\rb', 'HPE_STRICT'],
      ['HTTP/1.1 200 OK\r\nX-A: b\r\r', 'HPE_STRICT'],
      ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: b\rc', 'HPE_STRICT'],
      // The first bare line end decides, a CR or an LF, as in the whole head.
      ['HTTP/1.1 200 OK\r\nX-A: b\rc\nd', 'HPE_STRICT'],
      ['HTTP/1.1 200 OK\r\nX-A: b\nc\rd', 'HPE_INVALID_HEADER_TOKEN'],
      ['HTTP/1.1 200 OK\nX\rY', 'HPE_INVALID_STATUS'],
      [`${chunked}\rX`, 'HPE_STRICT'],
      [`${chunked}X-\rT: a`, 'HPE_INVALID_HEADER_TOKEN'],
      [`${chunked}X-T: a\rb`, 'HPE_STRICT'],
      [`${chunked}X-T: a\r\r`, 'HPE_STRICT'],
      [`${chunked}X-T: a\r\n\rY: b`, 'HPE_STRICT'],
    ] as const) {
      // Whole with the CRLF CRLF that ends the section, it is refused by what it holds.
      expect(() => parse(`${wire}\r\n\r\n`), JSON.stringify(wire)).toThrow(expect.objectContaining({ code }));
      // Without it, the end looked for never comes: refused as the bytes come, the cut right after the CR included.
      for (const cutting of cuttings(wire)) expect(() => parse(wire, cutting), `${JSON.stringify(wire)} ${JSON.stringify(cutting)}`).toThrow(expect.objectContaining({ code }));
    }
    // A CR last in a read may be a CRLF's first half: the head or trailers wait for the next byte.
    expect(parse('HTTP/1.1 200 OK\r\nX-A: b\r')).toMatchObject({ heads: [], ends: [] });
    expect(parse(`${chunked}X-T: a\r`)).toMatchObject({ body: 'abc', ends: [] });
    // A head ending among its status digits is refused as one with a bad byte there is, not for
    // being shorter than a status line: a head cut right after such a CR could still end either
    // way, and waited for the node's timeout.
    for (const wire of ['HTTP/1.1 2\r\r\n\r', 'HTTP/1.1 \rX\r\n\r', 'HTTP/1.1 \r\r\n\r', 'HTTP/1.1 2\n\r\n\r']) {
      expect(() => parse(`${wire}\n`), JSON.stringify(wire)).toThrow(expect.objectContaining({ code: 'HPE_INVALID_STATUS' }));
      for (const cutting of cuttings(wire)) expect(() => parse(wire, cutting), `${JSON.stringify(wire)} ${JSON.stringify(cutting)}`).toThrow(expect.objectContaining({ code: 'HPE_INVALID_STATUS' }));
    }
  });
});
