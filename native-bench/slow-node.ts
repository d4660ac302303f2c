/**
 * native-bench slow node (`npm run bench:slow-node`, issue 11): one node of three degrades (every
 * answer 100 ms late, a fifth of them 503), and the gateway in front should notice and send it less.
 * nginx with max_fails and HAProxy with observe layer7 (lib/failover.ts) against ringgate with its
 * defaults, in interleaved rounds, pinned as the main bench. Every process is started afresh for
 * each run, so each gateway meets the slow node for the first time. Reports RPS, p50/p99, errors,
 * and the share of upstream requests the slow node got, counted by the slow node itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeCheckout } from './lib/baseline.js';
import { ringgateEnv, writeRinggateConfig } from './lib/candidates.js';
import { haproxyFailoverConf, nginxFailoverConf } from './lib/failover.js';
import { measure } from './lib/measure.js';
import { intFromEnv, PINNED } from './lib/options.js';
import { freePort, startGroup, waitForHttp, type Started } from './lib/proc.js';
import { checkScenario, scenarioNamed, wrkScript } from './lib/scenarios.js';
import { describeBehaviour, slowNodeBehaviour, startSlowNode, type SlowNode } from './lib/slow-node.js';
import { slowNodeTables, slowShare, type Run } from './lib/slow-node-report.js';
import { scratchDir, startNginx, startUpstream, upstreamRequests } from './lib/upstream.js';
import { runWrk, type LoadResult } from './lib/wrk.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const RESULTS = join(HERE, 'results');
/**
 * Besides the three, two references: `haproxy-no-retry-on` (observe layer7 without L7 retries, whose
 * failures HAProxy 2.6 does not observe) and `nginx-no-checks` (max_fails=0, no retry: doing nothing).
 */
const CANDIDATES = ['nginx', 'haproxy', 'ringgate', 'haproxy-no-retry-on', 'nginx-no-checks'] as const;
type Candidate = (typeof CANDIDATES)[number];
/**
 * 1,000 tenants in turn: ringgate places tenants on its ring, so one tenant would pin all load to
 * one node; nginx and HAProxy ignore the header.
 */
const SCENARIO = scenarioNamed('tenants-1000');

const progress = (line: string): boolean => process.stderr.write(`${line}\n`);

function candidatesFromEnv(env: NodeJS.ProcessEnv): Candidate[] {
  const raw = env.BENCH_CANDIDATES;
  if (raw === undefined || raw === '') return [...CANDIDATES];
  const names = raw.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(CANDIDATES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`BENCH_CANDIDATES: unknown ${unknown.join(', ')}; known: ${CANDIDATES.join(', ')}`);
  return names as Candidate[];
}

/** Starts a gateway in front of the nodes and resolves once it relays a request. */
async function startGateway(candidate: Candidate, dir: string, port: number, nodePorts: readonly number[]): Promise<Started> {
  const url = `http://127.0.0.1:${port}/`;
  if (candidate === 'ringgate') {
    const config = writeRinggateConfig(join(dir, 'ringgate.json'), nodePorts);
    const env = ringgateEnv(config, port, { GATEWAY_THREADS: '1' });
    const started = startGroup(candidate, process.execPath, [join(ROOT, 'dist/main.js')], PINNED.proxy, env);
    await waitForHttp(url, started, { 'x-tenant-id': 'bench-ready' });
    return started;
  }
  if (candidate === 'haproxy' || candidate === 'haproxy-no-retry-on') {
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, haproxyFailoverConf(port, nodePorts, candidate === 'haproxy'));
    const started = startGroup(candidate, 'haproxy', ['-db', '-f', file], PINNED.proxy);
    await waitForHttp(url, started);
    return started;
  }
  const proxyDir = join(dir, candidate);
  const started = startNginx(candidate, proxyDir, nginxFailoverConf(proxyDir, port, nodePorts, candidate === 'nginx'), PINNED.proxy);
  await waitForHttp(url, started);
  return started;
}

/**
 * A misconfigured gateway must not be measured as fast: it must answer 200 with the whole body. The
 * slow node fails some requests on purpose, so one failure passed on is no misconfiguration; five
 * in a row (0.2^5 through the slow node) is.
 */
async function checkRelays(port: number, candidate: Candidate): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await checkScenario(SCENARIO, port, candidate);
    } catch (err) {
      if (attempt === 5) throw err;
    }
  }
}

/** A load, with the upstream requests each kind of node received while it ran. */
async function counted<T extends LoadResult>(slow: SlowNode, fastPort: number, load: () => Promise<T>) {
  const [slowBefore, fastBefore] = [await slow.stats(), await upstreamRequests(fastPort)];
  const result = await load();
  const [slowAfter, fastAfter] = [await slow.stats(), await upstreamRequests(fastPort)];
  return {
    ...result,
    slowAttempts: slowAfter.requests - slowBefore.requests,
    slowFailed: slowAfter.failed - slowBefore.failed,
    // Less the stub_status reading's own request.
    fastAttempts: fastAfter - fastBefore - 1,
  };
}

/** One gateway's run, everything started afresh: upstreams, slow node, gateway; warm-up, measured. */
async function runOnce(candidate: Candidate, round: number, dir: string, opts: Options): Promise<Run> {
  const runDir = join(dir, `round-${round}-${candidate}`);
  mkdirSync(runDir, { recursive: true });
  const [fast0, fast1, slowPort, port] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const started: Started[] = [];
  try {
    started.push(await startUpstream(join(runDir, 'upstream'), [fast0, fast1], PINNED.upstream));
    const slow = await startSlowNode(slowPort, opts.behaviour, PINNED.upstream);
    started.push(slow.proc);
    const gateway = await startGateway(candidate, runDir, port, [fast0, fast1, slowPort]);
    started.push(gateway);
    await checkRelays(port, candidate);
    const load = (seconds: number) => () =>
      runWrk({ url: `http://127.0.0.1:${port}`, scriptPath: opts.scriptPath, connections: opts.connections, seconds, cpus: PINNED.load });
    const warmup = opts.warmupSeconds > 0 ? await counted(slow, fast0, load(opts.warmupSeconds)) : null;
    const measured = await counted(slow, fast0, () => measure(gateway, load(opts.seconds)));
    return { candidate, round, warmup, measured };
  } finally {
    for (const proc of started.reverse()) await proc.stop();
  }
}

interface Options {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly behaviour: ReturnType<typeof slowNodeBehaviour>;
  readonly scriptPath: string;
}

async function main(): Promise<void> {
  const candidates = candidatesFromEnv(process.env);
  execFileSync(join(HERE, 'install-tools.sh'), { stdio: 'inherit' });
  const dir = scratchDir('ringgate-slow-node-');
  const opts: Options = {
    seconds: intFromEnv(process.env, 'BENCH_SECONDS', 10, 1),
    warmupSeconds: intFromEnv(process.env, 'BENCH_WARMUP_SECONDS', 2, 0),
    rounds: intFromEnv(process.env, 'BENCH_ROUNDS', 3, 1),
    connections: intFromEnv(process.env, 'BENCH_CONNECTIONS', 32, 1),
    behaviour: slowNodeBehaviour(process.env),
    scriptPath: join(dir, 'tenants-1000.lua'),
  };
  const runs: Run[] = [];
  try {
    writeFileSync(opts.scriptPath, wrkScript(SCENARIO));
    for (let round = 1; round <= opts.rounds; round++) {
      for (const candidate of candidates) {
        const run = await runOnce(candidate, round, dir, opts);
        runs.push(run);
        const m = run.measured;
        progress(`round ${round} ${candidate}: ${m.rps.toFixed(0)} rps, p99 ${m.p99Ms.toFixed(1)} ms, ${m.errors} errors, slow node ${slowShare(m).toFixed(1)}%`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const date = new Date().toISOString();
  const markdown = [
    `# native-bench slow node, ${date.slice(0, 10)}`,
    '',
    `Three nodes: two ports of the nginx upstream and one slow node (a Node server: ${describeBehaviour(opts.behaviour)}). ` +
      `wrk -t1 -c${opts.connections}, GET with 1,000 tenants in turn. Pinned: the gateway on CPU 0, nodes and wrk on CPU 1. ` +
      `${opts.rounds} interleaved rounds of ${opts.warmupSeconds} s warm-up + ${opts.seconds} s measured, every process started afresh ` +
      `for each run. ringgate: ${describeCheckout(ROOT)}, 1 thread, defaults. nginx and HAProxy as in native-bench/README.md.`,
    '',
    slowNodeTables(runs, candidates),
    '',
  ].join('\n');
  mkdirSync(RESULTS, { recursive: true });
  const stamp = date.replace(/[:.]/g, '-');
  const { seconds, warmupSeconds, rounds, connections, behaviour } = opts;
  const json = { date, seconds, warmupSeconds, rounds, connections, behaviour, candidates, runs };
  writeFileSync(join(RESULTS, `slow-node-${stamp}.json`), JSON.stringify(json, null, 2));
  writeFileSync(join(RESULTS, 'slow-node-latest.md'), markdown);
  process.stdout.write(markdown);
}

await main();
