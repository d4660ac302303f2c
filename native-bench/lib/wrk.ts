import { runToEnd, type CpuList } from './proc.js';

export interface LoadResult {
  readonly requests: number;
  /** Requests answered 2xx or 3xx: what a proxy's CPU per request is counted over (a quick error is no request served). */
  readonly answered: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors plus non-2xx/3xx answers. */
  readonly errors: number;
  /** What the errors were, as wrk counts them ("read 2, timeout 3, non-2xx 7"); empty without any. */
  readonly errorKinds: string;
}

export interface WrkOptions {
  readonly url: string;
  readonly scriptPath: string;
  readonly connections: number;
  readonly seconds: number;
  readonly cpus: CpuList;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

function percentile(out: string, p: string): number {
  const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
  if (!match) throw new Error(`wrk output without a ${p}% latency:\n${out}`);
  return toMs(match[1]!, match[2]!);
}

/** Parses wrk's text report (wrk has no machine-readable output). */
export function parseWrk(out: string): LoadResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(out);
  if (!total) throw new Error(`unexpected wrk output:\n${out}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const counts = ['connect', 'read', 'write', 'timeout'].map((kind, i) => [kind, Number(socket?.[i + 1] ?? 0)] as const);
  counts.push(['non-2xx', Number(non2xx?.[1] ?? 0)]);
  const requests = Number(total[1]);
  const seconds = toMs(total[2]!, total[3]!) / 1000;
  return {
    requests,
    answered: requests - Number(non2xx?.[1] ?? 0),
    seconds,
    rps: requests / seconds,
    p50Ms: percentile(out, '50'),
    p99Ms: percentile(out, '99'),
    errors: counts.reduce((sum, [, n]) => sum + n, 0),
    errorKinds: describeErrors(counts),
  };
}

/** "read 2, timeout 3": the kinds of error a load generator counted, those it counted any of. */
export function describeErrors(counts: ReadonlyArray<readonly [string, number]>): string {
  return counts
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
}

/** One bounded wrk run (-t1: a second load thread would only steal the proxy's CPU here). */
export async function runWrk(options: WrkOptions): Promise<LoadResult> {
  const { url, scriptPath, connections, seconds, cpus } = options;
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '5s', '-s', scriptPath, url];
  return parseWrk(await runToEnd('wrk', args, cpus, (seconds + 30) * 1000));
}
