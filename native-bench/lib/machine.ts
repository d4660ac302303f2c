import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';

/** First line a tool prints about its version (nginx and wrk print it on stderr or exit non-zero). */
export function toolVersion(command: string, args: string[]): string {
  const { stdout, stderr } = spawnSync(command, args, { encoding: 'utf8' });
  return `${stdout}${stderr}`.trim().split('\n')[0]!.trim();
}

/** CPUs, kernel and memory, for a report's header: results only compare on the same machine. */
export function describeMachine(): string {
  const memKiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  return `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Linux ${release()}, ${Math.round(memKiB / 2 ** 20)} GiB`;
}

/** Node, nginx and wrk, the versions every bench runs with (HAProxy only where it is a candidate). */
export function coreVersions(): string[] {
  return [`node ${process.version}`, toolVersion('nginx', ['-v']).replace('nginx version: ', ''), toolVersion('wrk', ['-v']).split(' [')[0]!];
}
