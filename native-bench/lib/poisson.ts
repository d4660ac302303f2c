import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd, type CpuList } from './proc.js';
import type { BenchRequest } from './scenarios.js';
import type { LoadResult } from './wrk.js';

const SOURCE = fileURLToPath(new URL('../poisson-load.c', import.meta.url));

/** Compiles native-bench/poisson-load.c into `dir` (once a run); returns the binary's path. */
export async function buildPoissonLoad(dir: string): Promise<string> {
  const binary = join(dir, 'poisson-load');
  await runToEnd('cc', ['-O2', '-o', binary, SOURCE, '-lm'], null, 60_000);
  return binary;
}

export interface PoissonOptions {
  /** The binary buildPoissonLoad made. */
  readonly tool: string;
  readonly port: number;
  /** Arrivals a second, on average. */
  readonly rate: number;
  /** Keep-alive connections the arrivals take in turn: enough that none waits at the rate. */
  readonly connections: number;
  readonly seconds: number;
  /** Arrivals before the measured ones, at the same rate on the same connections. */
  readonly warmupSeconds: number;
  /** Taken in turn by the arrivals: a scenario's requests, as wrk cycles through them (scenarioRequests). */
  readonly requests: readonly BenchRequest[];
  /** Where the request's bytes are written for the tool. */
  readonly dir: string;
  readonly cpus: CpuList;
}

/** `request` as wrk sends it, to 127.0.0.1:`port`. */
export function requestBytes(request: BenchRequest, port: number): string {
  const body = 'p'.repeat(request.bodyBytes);
  const framing = request.bodyBytes > 0 ? `Content-Type: application/octet-stream\r\nContent-Length: ${request.bodyBytes}\r\n` : '';
  return `${request.method} ${request.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Tenant-ID: ${request.tenant}\r\n${framing}\r\n${body}`;
}

/**
 * A Poisson run: also how many measured arrivals found every connection busy and waited for one,
 * and the p99 of how late the tool itself wrote those that found an idle one (null from an older
 * build of the tool): a tail near it is the load generator's, not the server's.
 */
export type PoissonResult = LoadResult & { readonly waited: number; readonly lateP99Ms: number | null };

interface ToolOutput {
  requests: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  waited: number;
  lateP99Ms?: number;
}

/** Reads the tool's one JSON line. */
export function parsePoisson(out: string): PoissonResult {
  const line = out.trim().split('\n').at(-1) ?? '';
  const parsed = JSON.parse(line) as Partial<ToolOutput>;
  const fields = ['requests', 'seconds', 'p50Ms', 'p99Ms', 'errors', 'waited'] as const;
  for (const field of fields) {
    if (typeof parsed[field] !== 'number') throw new Error(`poisson-load output without ${field}: ${line}`);
  }
  const result = parsed as ToolOutput;
  return {
    requests: result.requests,
    // Its errors are answers other than 2xx and 3xx.
    answered: result.requests - result.errors,
    seconds: result.seconds,
    rps: result.requests / result.seconds,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    errors: result.errors,
    errorKinds: result.errors > 0 ? `non-2xx ${result.errors}` : '',
    waited: result.waited,
    lateP99Ms: typeof result.lateP99Ms === 'number' ? result.lateP99Ms : null,
  };
}

/** One open-loop run with Poisson arrivals (native-bench/poisson-load.c says why). */
export async function runPoisson(options: PoissonOptions): Promise<PoissonResult> {
  const { tool, port, rate, connections, seconds, warmupSeconds, requests, dir, cpus } = options;
  const requestPath = join(dir, `poisson-request-${port}.http`);
  writeFileSync(requestPath, requests.map((request) => requestBytes(request, port)).join(''), 'latin1');
  const args = [String(port), rate.toFixed(0), String(connections), String(seconds), String(warmupSeconds), requestPath];
  return parsePoisson(await runToEnd(tool, args, cpus, (warmupSeconds + seconds + 30) * 1000));
}
