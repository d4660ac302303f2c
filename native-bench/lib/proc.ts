import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** CPU set for a process: `null` runs it unpinned, otherwise the list handed to `taskset -c`. */
export type CpuList = string | null;

export interface Started {
  readonly name: string;
  /** Process group id: the candidate and every process it forks (nginx workers) belong to it. */
  readonly pgid: number;
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Every group started and not yet stopped: an interrupted bench must not leave them running. */
const live = new Set<number>();

/** SIGTERM, then SIGCONT: a group paused by pauseOthers() acts on the SIGTERM only once it runs. */
function terminate(pgid: number): void {
  process.kill(-pgid, 'SIGTERM');
  process.kill(-pgid, 'SIGCONT');
}

/** The child has neither exited nor been killed by a signal. */
function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function stopLiveGroupsOn(signal: NodeJS.Signals): void {
  process.once(signal, () => {
    for (const pgid of live) {
      try {
        terminate(pgid);
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}
stopLiveGroupsOn('SIGINT');
stopLiveGroupsOn('SIGTERM');

/**
 * Starts a command in its own process group (so its CPU time and RSS can be summed from /proc and
 * it can be stopped as a group), optionally pinned with taskset (which execs, so the pid stays).
 */
export function startGroup(name: string, command: string, args: string[], cpus: CpuList, env: NodeJS.ProcessEnv = process.env): Started {
  const [file, argv] = cpus === null ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
  const child = spawn(file, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-8_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  live.add(child.pid!);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child.pid!);
      resolve();
    }),
  );
  return {
    name,
    pgid: child.pid!,
    child,
    output: () => output,
    async stop() {
      if (!running(child)) return;
      terminate(child.pid!);
      const killed = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!killed) {
        process.kill(-child.pid!, 'SIGKILL');
        await exited;
      }
    },
  };
}

/** The last `count` lines of a process's kept output, indented under a progress line. */
export function lastLines(output: string, count: number): string {
  return output
    .trimEnd()
    .split('\n')
    .slice(-count)
    .map((line) => `    ${line}`)
    .join('\n');
}

/**
 * Pauses (SIGSTOP) every group of `all` but `measured` until the returned function resumes them: a
 * candidate idle between its rounds still runs timers on the CPU the measured proxy is pinned to
 * (an idle ringgate with every feature configured, 2.5% of a core: health checks, breaker and
 * scoring ticks), which would take the measured proxy's CPU at moments it does not choose.
 */
export function pauseOthers(all: Iterable<Started | null>, measured: Started | null): () => void {
  const paused = [...all].filter((group): group is Started => group !== null && group !== measured && running(group.child));
  for (const group of paused) process.kill(-group.pgid, 'SIGSTOP');
  return () => {
    for (const group of paused) process.kill(-group.pgid, 'SIGCONT');
  };
}

function groupStats(pgid: number): { pids: number[]; ticks: number; systemTicks: number; minorFaults: number } {
  const pids: number[] = [];
  let ticks = 0;
  let systemTicks = 0;
  let minorFaults = 0;
  for (const entry of readdirSync('/proc')) {
    if (entry.charCodeAt(0) > 57) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited between readdir and read
    }
    // Fields after the parenthesised command name; the name itself may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue; // field 5: pgrp
    pids.push(Number(entry));
    ticks += Number(fields[11]) + Number(fields[12]); // fields 14, 15: utime, stime
    systemTicks += Number(fields[12]);
    minorFaults += Number(fields[7]); // field 10: minflt
  }
  return { pids, ticks, systemTicks, minorFaults };
}

/** Kernel clock ticks per second in /proc/<pid>/stat times. */
const USER_HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU seconds (user + system) used so far by every process of the group. */
export function groupCpuSeconds(pgid: number): number {
  return groupCpuTimes(pgid).total;
}

/** CPU seconds used so far by every process of the group: in all (user + system), and of them in the kernel (system time). */
export function groupCpuTimes(pgid: number): { total: number; system: number } {
  const { ticks, systemTicks } = groupStats(pgid);
  return { total: ticks / USER_HZ, system: systemTicks / USER_HZ };
}

/** Minor page faults so far of every process of the group (pages the kernel had to map and zero or share). */
export function groupMinorFaults(pgid: number): number {
  return groupStats(pgid).minorFaults;
}

/** Resident set size of the whole group, in bytes. */
export function groupRssBytes(pgid: number): number {
  let rss = 0;
  for (const pid of groupStats(pgid).pids) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      rss += Number(match?.[1] ?? 0) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return rss;
}

/** Samples the group's RSS until stopped; returns the peak. */
export function sampleRss(pgid: number, everyMs = 250): () => number {
  let peak = groupRssBytes(pgid);
  const timer = setInterval(() => {
    peak = Math.max(peak, groupRssBytes(pgid));
  }, everyMs);
  return () => {
    clearInterval(timer);
    return Math.max(peak, groupRssBytes(pgid));
  };
}

/** Polls until `url` answers 200; otherwise stops the process and throws with its output. */
export async function waitForHttp(url: string, started: Started, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) break;
    try {
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  await started.stop();
  throw new Error(`${started.name} did not answer 200 on ${url} (${last}):\n${started.output()}`);
}

/** Runs a command to completion and returns its stdout; throws with stderr on a non-zero exit. */
export function runToEnd(command: string, args: string[], cpus: CpuList, timeoutMs: number): Promise<string> {
  const [file, argv] = cpus === null ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} exited ${code}: ${stderr || stdout}`));
    });
  });
}

/** A port the kernel just handed out and took back: free for a candidate to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
