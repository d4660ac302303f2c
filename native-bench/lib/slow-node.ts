import { fileURLToPath } from 'node:url';
import { intFromEnv } from './options.js';
import { startGroup, waitForHttp, type CpuList, type Started } from './proc.js';
import { SMALL_BODY, STATIC_FILES } from './upstream.js';

const SERVER = fileURLToPath(new URL('../upstreams/slow-node-server.ts', import.meta.url));
/** Where the slow node answers its counts; no gateway is sent there, so they count only the load. */
const STATS_PATH = '/_bench/slow-node-stats';

/** How the slow node degrades (BENCH_SLOW_* knobs). */
export interface SlowNodeBehaviour {
  /** Added to every answer, failed or not. */
  readonly delayMs: number;
  /** Share of requests that fail, at random, in percent. */
  readonly failPercent: number;
  /** `503`: an answer a gateway can read; `reset`: a TCP RST instead of any answer. */
  readonly failure: '503' | 'reset';
}

/** What slow-node-server.ts is started with, as one JSON argument. */
export interface SlowNodeArgs extends SlowNodeBehaviour {
  readonly port: number;
  readonly statsPath: string;
  readonly body: string;
  /** Paths answered with this many bytes instead of `body`, as the nginx upstream's static files. */
  readonly files: Readonly<Record<string, number>>;
}

export interface SlowNodeStats {
  /** Every request it received (attempts, whoever sent them), failed ones included. */
  readonly requests: number;
  readonly failed: number;
}

export interface SlowNode {
  readonly port: number;
  readonly proc: Started;
  stats(): Promise<SlowNodeStats>;
}

/** The BENCH_SLOW_* knobs; `defaultFailPercent` is the bench's own (a soak's node is slow, not failing). */
export function slowNodeBehaviour(env: NodeJS.ProcessEnv, defaultFailPercent = 20): SlowNodeBehaviour {
  const failure = env.BENCH_SLOW_FAILURE || '503';
  if (failure !== '503' && failure !== 'reset') throw new Error(`BENCH_SLOW_FAILURE: expected 503 or reset, got ${JSON.stringify(failure)}`);
  const failPercent = intFromEnv(env, 'BENCH_SLOW_FAIL_PERCENT', defaultFailPercent, 0);
  if (failPercent > 100) throw new Error(`BENCH_SLOW_FAIL_PERCENT: expected 0-100, got ${failPercent}`);
  return { delayMs: intFromEnv(env, 'BENCH_SLOW_DELAY_MS', 100, 0), failPercent, failure };
}

export const describeBehaviour = (b: SlowNodeBehaviour): string =>
  `every answer ${b.delayMs} ms late, ${b.failPercent}% of them ${b.failure === '503' ? 'a 503' : 'a TCP reset'}, the rest 200 with the nginx upstream's body`;

/** Starts the slow node (the one Node process among the upstreams) and waits until it answers. */
export async function startSlowNode(port: number, behaviour: SlowNodeBehaviour, cpus: CpuList): Promise<SlowNode> {
  const args: SlowNodeArgs = { ...behaviour, port, statsPath: STATS_PATH, body: SMALL_BODY, files: STATIC_FILES };
  const proc = startGroup('slow-node', process.execPath, ['--import', 'tsx', SERVER, JSON.stringify(args)], cpus);
  const url = `http://127.0.0.1:${port}${STATS_PATH}`;
  await waitForHttp(url, proc);
  return {
    port,
    proc,
    async stats() {
      return (await (await fetch(url)).json()) as SlowNodeStats;
    },
  };
}
