import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { UpstreamRequest } from '../../src/upstream/dispatcher.js';
import { BodyFraming, requestHead } from '../../src/upstream/h1/request-head.js';

const request = (over: Partial<UpstreamRequest>): UpstreamRequest => ({ method: 'GET', path: '/', headers: ['host', 'node'], body: null, ...over });

/** The head's text (a byte a character) and what follows it in its buffer. */
function written(over: Partial<UpstreamRequest>, room = 0): { text: string; framing: BodyFraming; declared: number; after: number } {
  const head = requestHead(request(over), room);
  const text = head.bytes.subarray(0, head.bytes.length - room).toString('latin1');
  return { text, framing: head.framing, declared: head.declared, after: head.bytes.length - text.length };
}

describe('requestHead', () => {
  it('writes the request line and the fields as given, a byte a character, with room after the head', () => {
    const head = written({ method: 'PUT', path: '/item?v=1', headers: ['host', 'node', 'x-name', 'cafe\tau lait'], body: Buffer.from('abc') }, 3);
    expect(head.text).toBe('PUT /item?v=1 HTTP/1.1\r\nhost: node\r\nx-name: cafe\tau lait\r\ncontent-length: 3\r\n\r\n');
    expect(head).toMatchObject({ framing: BodyFraming.Length, declared: 3, after: 3 });
  });

  it("writes a target and values past ASCII as UTF-8 (the client's bytes, which uWS read as UTF-8), with the same room after", () => {
    const over = { method: 'PUT', path: '/caf\u00e9?q=\u20ac', headers: ['host', 'node', 'x-name', 'caf\u00e9\tau lait \u{1f375}'], body: Buffer.from('abc') };
    const head = requestHead(request(over), 3);
    const expected = Buffer.from('PUT /caf\u00e9?q=\u20ac HTTP/1.1\r\nhost: node\r\nx-name: caf\u00e9\tau lait \u{1f375}\r\ncontent-length: 3\r\n\r\n', 'utf8');
    expect(head.bytes.length).toBe(expected.length + 3);
    expect(head.bytes.subarray(0, expected.length)).toEqual(expected);
    expect(head).toMatchObject({ framing: BodyFraming.Length, declared: 3 });
  });

  it('frames the body: a Buffer by its length, a stream chunked or under its declared length, none as none', () => {
    expect(written({ headers: ['host', 'node', 'content-length', '3'], body: Buffer.from('abc') }).text).toBe('GET / HTTP/1.1\r\nhost: node\r\ncontent-length: 3\r\n\r\n');
    const chunked = written({ method: 'POST', body: Readable.from([]) });
    expect(chunked).toMatchObject({ text: 'POST / HTTP/1.1\r\nhost: node\r\ntransfer-encoding: chunked\r\n\r\n', framing: BodyFraming.Chunked, declared: -1 });
    const declared = written({ method: 'POST', headers: ['host', 'node', 'content-length', '5'], body: Readable.from([]) });
    expect(declared).toMatchObject({ text: 'POST / HTTP/1.1\r\nhost: node\r\ncontent-length: 5\r\n\r\n', framing: BodyFraming.Length, declared: 5 });
    expect(written({ method: 'POST' }).text).toBe('POST / HTTP/1.1\r\nhost: node\r\ncontent-length: 0\r\n\r\n');
    expect(written({})).toMatchObject({ text: 'GET / HTTP/1.1\r\nhost: node\r\n\r\n', framing: BodyFraming.None });
  });

  it.each([
    ['an empty method', { method: '' }],
    ['a method with a space', { method: 'GET /x HTTP/1.1\r\nX:' }],
    ['an empty target', { path: '' }],
    ['a target with a space', { path: '/a b' }],
    ['a target with a line end', { path: '/a\r\nX: y' }],
    ['a target with U+FFFD (bytes that were not UTF-8)', { path: '/caf\ufffd' }],
    ['a target past ASCII with a space', { path: '/caf\u00e9 x' }],
    ['an empty name', { headers: ['', 'v'] }],
    ['a name with a colon', { headers: ['x:y', 'v'] }],
    ['a name with a space', { headers: ['x y', 'v'] }],
    ['a value with CR LF', { headers: ['x', 'v\r\nGET /smuggled HTTP/1.1'] }],
    ['a value with a lone LF', { headers: ['x', 'v\nw'] }],
    ['a value with NUL', { headers: ['x', 'v\u0000'] }],
    ['a value with DEL', { headers: ['x', 'v\u007f'] }],
    ['a value with U+FFFD (bytes that were not UTF-8)', { headers: ['x', 'caf\ufffd'] }],
    ['a value past ASCII with a line end', { headers: ['x', '\u20ac\r\nGET /smuggled HTTP/1.1'] }],
    ['a name past ASCII', { headers: ['caf\u00e9', 'v'] }],
    ['a method past ASCII', { method: 'G\u00c9T' }],
    ['a Content-Length that is not digits', { headers: ['content-length', '0x10'], body: Buffer.alloc(16) }],
  ] as const)('refuses %s (UND_ERR_INVALID_ARG)', (_name, over) => {
    expect(() => requestHead(request(over as Partial<UpstreamRequest>), 0)).toThrow(expect.objectContaining({ code: 'UND_ERR_INVALID_ARG' }));
  });

  it('refuses a declared length the body does not have', () => {
    for (const over of [
      { headers: ['content-length', '4'], body: Buffer.from('abc') },
      { headers: ['content-length', '3'], body: null },
    ]) {
      expect(() => requestHead(request(over), 0)).toThrow(expect.objectContaining({ code: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' }));
    }
  });
});
