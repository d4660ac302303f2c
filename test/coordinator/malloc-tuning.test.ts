import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GLIBC_MALLOC_TUNABLES, glibcVersion, warnUntunedMalloc } from '../../src/coordinator/malloc-tuning.js';
import { startGateway } from '../helpers/gateway-process.js';

const UNTUNED = 'glibc malloc is not tuned';
const repoFile = (name: string): string => readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8');

function warnings(glibcTunables: string | null, libc: () => string | null): { msg: string; recommended?: string }[] {
  const lines: { msg: string; recommended?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
  warnUntunedMalloc(glibcTunables, log, libc);
  return lines;
}

describe('glibc malloc tuning', () => {
  it('the image runs ringgate with the tunables the warning recommends', () => {
    expect(repoFile('Dockerfile')).toContain(`ENV GLIBC_TUNABLES=${GLIBC_MALLOC_TUNABLES}\n`);
  });

  it('warns on glibc without malloc tunables, naming what to set; not when any is set, nor off glibc', () => {
    const untuned = warnings(null, () => '2.36');
    expect(untuned).toHaveLength(1);
    expect(untuned[0]!.msg).toContain(UNTUNED);
    expect(untuned[0]!.recommended).toBe(GLIBC_MALLOC_TUNABLES);
    expect(warnings('glibc.rtld.nns=2', () => '2.36')).toHaveLength(1);
    expect(warnings('glibc.malloc.arena_max=2', () => '2.36')).toEqual([]);
    expect(warnings(null, () => null)).toEqual([]);
  });

  it.runIf(glibcVersion() !== null)('a gateway started without them says so once; started as the image starts it, it does not', async () => {
    const byHand = await startGateway(null, { GLIBC_TUNABLES: '', GATEWAY_THREADS: '1' });
    const tuned = await startGateway(null, { GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES, GATEWAY_THREADS: '1' }).finally(() => byHand.stop());
    await tuned.stop();
    expect(byHand.logs.filter((line) => line.includes(UNTUNED))).toHaveLength(1);
    expect(tuned.logs.filter((line) => line.includes(UNTUNED))).toEqual([]);
  });
});
