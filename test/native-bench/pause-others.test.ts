import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { pauseOthers, startGroup, type Started } from '../../native-bench/lib/proc.js';

/** The process's state letter from /proc (T: stopped by a signal). */
function state(group: Started): string {
  const stat = readFileSync(`/proc/${group.pgid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

const started: Started[] = [];

afterEach(async () => {
  for (const group of started.splice(0)) await group.stop();
});

describe('native-bench pauseOthers', () => {
  it('stops every group but the measured one until resumed, and a paused group still stops on stop()', async () => {
    // Handling SIGTERM as ringgate does: a stopped process with a handler acts on it only once continued.
    const script = "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log('ready');";
    const groups = ['a', 'b', 'c'].map((name) => startGroup(name, process.execPath, ['-e', script], null));
    started.push(...groups);
    await expect.poll(() => groups.every((group) => group.output().includes('ready')), { timeout: 5_000 }).toBe(true);
    const [measured, other, paused] = groups as [Started, Started, Started];
    const resume = pauseOthers([measured, null, other, paused], measured);
    await expect.poll(() => [state(other), state(paused)], { timeout: 5_000 }).toEqual(['T', 'T']);
    expect(state(measured)).not.toBe('T');
    resume();
    await expect.poll(() => [state(other), state(paused)].includes('T'), { timeout: 5_000 }).toBe(false);

    pauseOthers(groups, measured);
    await expect.poll(() => state(paused), { timeout: 5_000 }).toBe('T');
    await paused.stop();
    // Its SIGTERM handler ran (exit 0): not left stopped until stop() fell back to SIGKILL.
    expect(paused.child.signalCode).toBeNull();
    expect(paused.child.exitCode).toBe(0);
  });
});
