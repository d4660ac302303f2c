import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Counting a process's instructions with valgrind's callgrind (instructions.ts): a count does not
 * move with the other tenants of a VM, as CPU time does. Node runs with its JIT code named in a
 * perf map (V8 writes /tmp/perf-<pid>.map), which is how compiled JavaScript gets its function's
 * name here, and with its builtins called where the binary holds them, so that callgrind names
 * them too (V8 otherwise copies them next to the JIT code, where nothing names them).
 */
export const NODE_FLAGS = ['--perf-basic-prof', '--no-short-builtin-calls'] as const;

/** valgrind's arguments before the program: counting off until turned on, one profile per thread. */
export function callgrindArgs(outFile: string): string[] {
  return ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', '--smc-check=all-non-file', `--callgrind-out-file=${outFile}`];
}

/** Turns counting on in a running callgrind, or dumps what it counted so far. */
export function callgrindControl(pid: number, action: 'on' | 'dump'): void {
  const args = action === 'dump' ? ['--dump', String(pid)] : ['--instr', 'on', String(pid)];
  execFileSync('callgrind_control', args, { stdio: 'ignore' });
}

/** Where V8 writes a process's perf map (a fixed place: /tmp, by its pid). */
export const perfMapPath = (pid: number): string => `/tmp/perf-${pid}.map`;

/** V8's perf map of a process: JIT code's address ranges and the names of their functions. */
export class PerfMap {
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  readonly #names: string[] = [];

  constructor(path: string) {
    const entries = new Map<number, { end: number; name: string }>();
    // Code can be freed and its address used again: the entry written last is the code there now.
    for (const line of readFileSync(path, 'latin1').split('\n')) {
      const [start, size, ...name] = line.split(' ');
      if (start === undefined || size === undefined || name.length === 0) continue;
      const at = parseInt(start, 16);
      entries.set(at, { end: at + parseInt(size, 16), name: name.join(' ') });
    }
    for (const at of [...entries.keys()].sort((a, b) => a - b)) {
      const entry = entries.get(at)!;
      this.#starts.push(at);
      this.#ends.push(entry.end);
      this.#names.push(entry.name);
    }
  }

  /** The function whose code holds `address`, or null. */
  name(address: number): string | null {
    let low = 0;
    let high = this.#starts.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.#starts[middle]! <= address) low = middle + 1;
      else high = middle - 1;
    }
    return high >= 0 && address < this.#ends[high]! ? this.#names[high]! : null;
  }
}

/** One thread's count between two dumps: its total and each function's own instructions. */
export interface ThreadCount {
  readonly thread: string;
  readonly total: number;
  /** Own (exclusive) instructions by function, JIT code named through the perf map. */
  readonly functions: ReadonlyMap<string, number>;
}

/**
 * A function's name without what moves between builds and runs: the source position of compiled
 * JavaScript, the checkout's directory, the library a native symbol came from. `~`, `^` and `*`
 * (interpreted, baseline, optimized) stay: code running unoptimized is worth seeing.
 */
function stableName(name: string): string {
  return name
    .replace(/:\d+:\d+$/, '')
    .replace(/file:\/\/\S*?\/(dist|node_modules)\//, '$1/')
    .replace(/ \[[^\]]*\]$/, '');
}

/** `1,234 (5.67%)  name [object]`. */
const ANNOTATE_LINE = /^\s*([\d,]+) \(\s*-?[\d.]+%\)\s+(PROGRAM TOTALS|\S.*)$/;
const UNNAMED = /^\?\?\?:0x([0-9a-f]+)/;

function countThread(file: string, thread: string, map: PerfMap): ThreadCount {
  // callgrind_annotate sums each function's cost over the dump; --threshold=100 lists every one.
  const listed = execFileSync('callgrind_annotate', ['--threshold=100', file], { encoding: 'latin1', maxBuffer: 256 * 1024 * 1024 });
  let total = 0;
  const functions = new Map<string, number>();
  for (const line of listed.split('\n')) {
    const match = ANNOTATE_LINE.exec(line);
    if (match === null) continue;
    // The dump's own totals line wraps below zero after a thread's count was turned off and on: the sum of its functions does not.
    if (match[2] === 'PROGRAM TOTALS') continue;
    const instructions = Number(match[1]!.replaceAll(',', ''));
    total += instructions;
    const unnamed = UNNAMED.exec(match[2]!);
    const name = unnamed === null ? match[2]! : (map.name(parseInt(unnamed[1]!, 16)) ?? 'JIT code the perf map does not name');
    const key = stableName(name);
    functions.set(key, (functions.get(key) ?? 0) + instructions);
  }
  return { thread, total, functions };
}

/**
 * Every thread's count in dump `dump` of `outFile` (callgrind names them `<outFile>.<dump>-<thread>`),
 * the busiest first.
 */
export function readDump(outFile: string, dump: number, map: PerfMap): ThreadCount[] {
  const prefix = `${basename(outFile)}.${dump}-`;
  const dir = dirname(outFile);
  return readdirSync(dir)
    .filter((file) => file.startsWith(prefix))
    .map((file) => countThread(join(dir, file), file.slice(prefix.length), map))
    .sort((a, b) => b.total - a.total);
}

/** The acceptor's thread: the one that ran uWS's HTTP parser, the busiest if several did. */
export function acceptorThread(threads: readonly ThreadCount[]): ThreadCount {
  const found = threads.find((t) => [...t.functions.keys()].some((name) => name.includes('uWS::HttpContext')));
  if (found === undefined) throw new Error('no thread ran uWS: was the load answered?');
  return found;
}
