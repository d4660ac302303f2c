import { describe, expect, it } from 'vitest';
import { TurnBatch } from '../src/turn-batch.js';

const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnBatch', () => {
  it('writes what a turn held together at its end, in order, once each', async () => {
    const written: string[] = [];
    const batches: number[] = [];
    const batch = new TurnBatch(() => batches.push(written.length));
    for (const name of ['a', 'b', 'c']) batch.hold({ writeHeld: () => written.push(name) });
    expect(batch.size).toBe(3);
    expect(written).toEqual([]);
    await endOfTurn();
    expect(written).toEqual(['a', 'b', 'c']);
    expect(batches).toEqual([3]);
    await endOfTurn();
    expect(written).toEqual(['a', 'b', 'c']);
  });

  it('puts a write held while a batch is written in the next batch', async () => {
    const written: string[] = [];
    const batch = new TurnBatch();
    batch.hold({
      writeHeld: () => {
        written.push('first');
        batch.hold({ writeHeld: () => written.push('later') });
      },
    });
    await endOfTurn();
    expect(written).toEqual(['first']);
    expect(batch.size).toBe(1);
    await endOfTurn();
    expect(written).toEqual(['first', 'later']);
  });

  it('writes at once on writeNow, and the turn’s end then finds nothing to write', async () => {
    const written: string[] = [];
    const batch = new TurnBatch();
    batch.hold({ writeHeld: () => written.push('a') });
    batch.writeNow();
    expect(written).toEqual(['a']);
    await endOfTurn();
    expect(written).toEqual(['a']);
  });
});
