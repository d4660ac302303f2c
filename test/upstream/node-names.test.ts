import { describe, expect, it } from 'vitest';
import { addressKey, nodeHostname, nodeHostnames } from '../../src/upstream/node-names.js';

describe('node host names', () => {
  it.each([
    ['http://backend.test:8080', 'backend.test'],
    ['https://localhost', 'localhost'],
    ['http://10.0.0.5:8080', null],
    ['http://[fd00::5]:8080', null],
  ])('%s names %s', (url, hostname) => {
    expect(nodeHostname(url)).toBe(hostname);
  });

  it('lists each name once, IP literals left out', () => {
    const clusters = {
      a: { nodes: [{ url: 'http://x.test:1' }, { url: 'http://127.0.0.1:2' }] },
      b: { nodes: [{ url: 'https://x.test:3' }, { url: 'http://y.test' }] },
    };
    expect(nodeHostnames(clusters)).toEqual(new Set(['x.test', 'y.test']));
  });

  it('compares addresses as a set', () => {
    const a = { address: '10.0.0.1', family: 4 as const };
    const b = { address: '10.0.0.2', family: 4 as const };
    expect(addressKey([a, b])).toBe(addressKey([b, a]));
    expect(addressKey([a])).not.toBe(addressKey([b]));
    expect(addressKey(undefined)).toBe('');
  });
});
