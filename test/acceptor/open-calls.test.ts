import { describe, expect, it } from 'vitest';
import { OpenCalls } from '../../src/acceptor/open-calls.js';
import { loadSeededHash32 } from '../../src/hash.js';
import type { Hash32 } from '../../src/routing/ring.js';

interface Call {
  readonly id: number;
}

/** A table whose callers hash each key with the table's own hash, as LocalBatches does. */
function table(hash: Hash32, slots?: number) {
  const calls = new OpenCalls<Call>(hash, slots);
  return {
    calls,
    get: (key: string) => calls.get(key, calls.hash(key)),
    add: (key: string, call: Call) => calls.add(key, calls.hash(key), call),
    remove: (key: string, call: Call) => calls.remove(key, calls.hash(key), call),
  };
}

/** A deterministic stream of numbers, so a failing sequence of operations can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}

describe('OpenCalls', () => {
  it('finds what was added, and nothing once it is removed', async () => {
    const t = table(await loadSeededHash32());
    const a = { id: 1 };
    t.add('GET\nexample\n/a\nt1', a);
    expect(t.get('GET\nexample\n/a\nt1')).toBe(a);
    expect(t.get('GET\nexample\n/b\nt1')).toBeUndefined();
    t.remove('GET\nexample\n/a\nt1', a);
    expect(t.get('GET\nexample\n/a\nt1')).toBeUndefined();
    expect(t.calls.size).toBe(0);
  });

  it('leaves a key open when asked to remove a call that is not the one it holds', async () => {
    const t = table(await loadSeededHash32());
    const later = { id: 2 };
    t.add('k', later);
    t.remove('k', { id: 1 });
    expect(t.get('k')).toBe(later);
  });

  it('keeps every key of a collision run findable when one in its middle is removed, wrapping around the end', () => {
    // Every key hashes to the last slot: the run wraps to the start of the table.
    const t = table(() => 7, 8);
    const entries = ['a', 'b', 'c'].map((key, id) => [key, { id }] as const);
    for (const [key, call] of entries) t.add(key, call);
    t.remove('b', entries[1]![1]);
    expect(t.get('a')).toBe(entries[0]![1]);
    expect(t.get('b')).toBeUndefined();
    expect(t.get('c')).toBe(entries[2]![1]);
  });

  it('grows past its first size and agrees with a Map over a long random mix of adds and removes', () => {
    const next = prng(42);
    // A narrow hash makes long runs and many wraps; 16 slots to start makes it grow.
    const t = table((key) => Number(key.slice(1)) % 13, 16);
    const model = new Map<string, Call>();
    for (let step = 0; step < 20_000; step++) {
      const key = `k${next() % 300}`;
      const held = model.get(key);
      if (held === undefined) {
        const call = { id: step };
        t.add(key, call);
        model.set(key, call);
      } else {
        t.remove(key, held);
        model.delete(key);
      }
      if (step % 97 === 0) {
        for (let k = 0; k < 300; k++) expect(t.get(`k${k}`)).toBe(model.get(`k${k}`));
      }
    }
    expect(t.calls.size).toBe(model.size);
  });

  it('refuses a size that is not a power of two', () => {
    expect(() => new OpenCalls<Call>(() => 0, 100)).toThrow(/power of two, got 100/);
  });
});
