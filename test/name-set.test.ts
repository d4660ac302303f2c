import { describe, expect, it } from 'vitest';
import { FreshNameSet } from '../src/name-set.js';

describe('FreshNameSet', () => {
  it('answers for names of its own, of the same length or not, made fresh or not', () => {
    const set = new FreshNameSet(['te', 'trailer', 'upgrade', 'connection', 'keep-alive', 'te']);
    const fresh = (text: string) => Buffer.from(text).toString('latin1');
    expect(['te', 'trailer', 'upgrade', 'connection', 'keep-alive'].map((name) => set.has(fresh(name)))).toEqual([true, true, true, true, true]);
    // Lengths it holds (2, 7, 10) and lengths it does not, empty and longer than any.
    expect(['tE', 'referer', 'user-agent', '', 'host', 'x'.repeat(300)].map((name) => set.has(fresh(name)))).toEqual([false, false, false, false, false, false]);
  });
});
