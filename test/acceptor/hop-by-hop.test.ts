import { describe, expect, it } from 'vitest';
import { dropConnectionTokens } from '../../src/acceptor/hop-by-hop.js';

describe('dropConnectionTokens', () => {
  it('removes the headers a Connection value names, whatever their case, from string and Buffer lists', () => {
    const strings = ['x-a', '1', 'x-trace', '2', 'X-B', '3'];
    dropConnectionTokens(strings, 'keep-alive, X-Trace ,x-b');
    expect(strings).toEqual(['x-a', '1']);
    const raw = [Buffer.from('X-Trace'), Buffer.from('2'), Buffer.from('Server'), Buffer.from('nginx')];
    dropConnectionTokens(raw, 'x-trace');
    expect(raw.map(String)).toEqual(['Server', 'nginx']);
  });

  it('leaves the list alone when the value names only hop-by-hop headers, which are dropped anyway', () => {
    const headers = ['keep-alive', 'timeout=5', 'x-a', '1'];
    dropConnectionTokens(headers, 'Keep-Alive, upgrade, ');
    expect(headers).toEqual(['keep-alive', 'timeout=5', 'x-a', '1']);
  });

  it('keeps Host, which an HTTP/1.1 request must carry, even when Connection names it', () => {
    const headers = ['host', 'a.example', 'x-a', '1'];
    dropConnectionTokens(headers, 'host, x-a');
    expect(headers).toEqual(['host', 'a.example']);
  });
});
