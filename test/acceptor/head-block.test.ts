import { describe, expect, it } from 'vitest';
import { responseHeadBlock } from '../../src/acceptor/head-block.js';
import { RawFields } from '../../src/upstream/raw-fields.js';
import { rawFields } from '../helpers/raw-fields.js';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('response head block', () => {
  it('is the status line, X-Request-Id and each header as uWS writes them, without the last CRLF', () => {
    const block = responseHeadBlock('200 OK', 'req-1', rawFields('Server', 'nginx', 'ETag', '"5f-1"'), ['ratelimit-remaining', '99']);
    expect(block.toString('latin1')).toBe('200 OK\r\nx-request-id: req-1\r\nServer: nginx\r\nETag: "5f-1"\r\nratelimit-remaining: 99');
  });

  it("puts a client's own headers after the forwarded ones", () => {
    const block = responseHeadBlock('200 OK', 'r', rawFields('Server', 'nginx'), ['ratelimit-limit', '100', 'ratelimit-remaining', '7']);
    expect(block.toString('latin1')).toBe('200 OK\r\nx-request-id: r\r\nServer: nginx\r\nratelimit-limit: 100\r\nratelimit-remaining: 7');
  });

  it('writes forwarded bytes as they are, and strings as UTF-8 (what uWS makes of a string)', () => {
    const raw = Buffer.from([0x76, 0xe9, 0xff]); // "v", then bytes that are not UTF-8
    const block = responseHeadBlock('404 Not Found', 'id', rawFields('x-raw', raw), ['x-text', 'caf\u00e9 \u{1f600}']);
    const expected = Buffer.concat([
      latin1('404 Not Found\r\nx-request-id: id\r\nx-raw: '),
      raw,
      latin1('\r\nx-text: '),
      Buffer.from('caf\u00e9 \u{1f600}', 'utf8'),
    ]);
    expect(block.equals(expected)).toBe(true);
  });

  it('holds a head larger than the scratch it started with, and smaller ones after it', () => {
    const headers = Array.from({ length: 40 }, (_, i) => [`x-header-${i}`, 'v'.repeat(200)]).flat();
    const big = responseHeadBlock('200 OK', 'big', rawFields(...headers));
    expect(big.length).toBe('200 OK'.length + '\r\nx-request-id: big'.length + 40 * ('\r\nx-header-00: '.length + 200) - 10);
    expect(big.toString('latin1').split('\r\n')).toHaveLength(42);
    expect(responseHeadBlock('204 No Content', 'small', RawFields.EMPTY).toString('latin1')).toBe('204 No Content\r\nx-request-id: small');
  });

  it('gives every head its own bytes: one of the length before, and one of that length once the scratch grew', () => {
    expect(responseHeadBlock('200 OK', 'aaaa', RawFields.EMPTY).toString('latin1')).toBe('200 OK\r\nx-request-id: aaaa');
    expect(responseHeadBlock('200 OK', 'bbbb', RawFields.EMPTY).toString('latin1')).toBe('200 OK\r\nx-request-id: bbbb');
    const headers = Array.from({ length: 80 }, (_, i) => [`x-header-${i}`, 'w'.repeat(200)]).flat();
    expect(responseHeadBlock('200 OK', 'huge', rawFields(...headers)).toString('latin1').split('\r\n')).toHaveLength(82);
    expect(responseHeadBlock('200 OK', 'cccc', RawFields.EMPTY).toString('latin1')).toBe('200 OK\r\nx-request-id: cccc');
  });

  it('never gives a view of the memory it replaced: a head that grows the scratch at the last head\'s length is its own', () => {
    const size = responseHeadBlock('200 OK', 'r', RawFields.EMPTY).buffer.byteLength;
    const n = Math.ceil(size / 2);
    // Forwarded bytes are counted as they are: this one fits the scratch.
    const first = responseHeadBlock('200 OK', 'r', rawFields('x-a', 'a'.repeat(n)));
    const firstLength = first.length;
    const firstMemory = first.buffer;
    // A string is counted at 3 bytes a character: the same length, but the scratch grows for it.
    const second = responseHeadBlock('200 OK', 'r', RawFields.EMPTY, ['x-b', 'b'.repeat(n)]);
    expect(second.length).toBe(firstLength);
    expect(second.buffer).not.toBe(firstMemory);
    expect(second.toString('latin1')).toBe(`200 OK\r\nx-request-id: r\r\nx-b: ${'b'.repeat(n)}`);
  });
});
