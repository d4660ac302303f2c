import { describe, expect, it } from 'vitest';
import { IdleConnections } from '../../src/upstream/h1/idle-connections.js';

interface Fake {
  readonly name: string;
  usable: boolean;
}

const fake = (name: string): Fake => ({ name, usable: true });

describe('idle connections', () => {
  it('takes the most recently given back first, one given back this turn only when no other is idle', () => {
    let turn = 0;
    const idle = new IdleConnections<Fake>(() => turn);
    idle.push(fake('a'));
    idle.push(fake('b'));
    // Given back this turn: still the only ones.
    expect(idle.take()?.name).toBe('b');
    turn++;
    idle.push(fake('c'));
    // 'a' was given back in an earlier turn: it goes before 'c', given back now.
    expect(idle.take()?.name).toBe('a');
    expect(idle.take()?.name).toBe('c');
    expect(idle.take()).toBeUndefined();
    idle.push(fake('d'));
    idle.push(fake('e'));
    turn++;
    idle.push(fake('f'));
    expect([idle.take()?.name, idle.take()?.name, idle.take()?.name]).toEqual(['e', 'd', 'f']);
  });

  it('drops those no longer usable, forgets a removed one, and drains every one', () => {
    let turn = 0;
    const idle = new IdleConnections<Fake>(() => turn);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(fake) as [Fake, Fake, Fake, Fake];
    idle.push(a);
    idle.push(b);
    turn++;
    idle.push(c);
    idle.push(d);
    b.usable = false;
    expect(idle.take()).toBe(a);
    idle.remove(d);
    expect(idle.drain()).toEqual([c]);
    expect(idle.take()).toBeUndefined();
  });
});
