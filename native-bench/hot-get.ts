/**
 * native-bench hot-get (`npm run bench:hot-get`, issue 12): many connections ask for the same few
 * URLs of one tenant from a backend that takes 5 ms per answer. ringgate with the route's
 * `multiplex` (identical requests in flight share one upstream call) against nginx and HAProxy as
 * plain reverse proxies (no cache), and ringgate without multiplexing as the reference, in
 * interleaved rounds, pinned as the main bench. Every process is started afresh for each run.
 * Reports RPS, p50/p99, errors and upstream calls per client request, counted at the backend.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describeCheckout } from './lib/baseline.js';
import { ringgateEnv } from './lib/candidates.js';
import { checkHotGet, hotGetScript, hotPaths, startHotGetBackend, writeHotGetRinggateConfig, type HotGetBackend } from './lib/hot-get.js';
import { hotGetTable, LABELS, targetsLine, type HotGetRun, type Upstream } from './lib/hot-get-report.js';
import { measure, type Measured } from './lib/measure.js';
import { intFromEnv, PINNED } from './lib/options.js';
import { freePort, groupCpuSeconds, startGroup, waitForHttp, type Started } from './lib/proc.js';
import { haproxyConf, nginxProxyConf, scratchDir, startNginx } from './lib/upstream.js';
import { runWrk } from './lib/wrk.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const RESULTS = join(HERE, 'results');
const NODES = 3;
/** Round order: nginx, HAProxy, ringgate, then ringgate without multiplexing, the reference. */
const CANDIDATES = ['nginx', 'haproxy', 'ringgate', 'ringgate-multiplex-off'] as const;
type Candidate = (typeof CANDIDATES)[number];
/** After wrk stops, calls the gateway had already sent still land; they belong to this run. */
const SETTLE_MS = 200;

const progress = (line: string): boolean => process.stderr.write(`${line}\n`);

interface Options {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly delayMs: number;
  readonly paths: readonly string[];
  /** BENCH_HOT_GET_MULTIPLEX=0: for builds without the option, `ringgate` (multiplex on) is left out. */
  readonly multiplex: boolean;
  readonly scriptPath: string;
}

function candidatesFromEnv(env: NodeJS.ProcessEnv, multiplex: boolean): Candidate[] {
  const raw = env.BENCH_CANDIDATES;
  const names = raw === undefined || raw === '' ? [...CANDIDATES] : raw.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(CANDIDATES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`BENCH_CANDIDATES: unknown ${unknown.join(', ')}; known: ${CANDIDATES.join(', ')}`);
  return (names as Candidate[]).filter((n) => multiplex || n !== 'ringgate');
}

/** Starts a gateway in front of the nodes and resolves once it relays a request. */
async function startGateway(candidate: Candidate, dir: string, port: number, nodePorts: readonly number[], connections: number): Promise<Started> {
  const url = `http://127.0.0.1:${port}${hotPaths(1)[0]}`;
  if (candidate === 'ringgate' || candidate === 'ringgate-multiplex-off') {
    const multiplex = candidate === 'ringgate';
    const config = writeHotGetRinggateConfig(join(dir, `${candidate}.json`), nodePorts, multiplex);
    const env = ringgateEnv(config, port, { GATEWAY_THREADS: '1' });
    const started = startGroup(candidate, process.execPath, [join(ROOT, 'dist/main.js')], PINNED.proxy, env);
    try {
      await waitForHttp(url, started, { 'x-tenant-id': 'bench-ready' });
    } catch (err) {
      const hint = multiplex ? '\n(a build without the route option `multiplex` rejects the config: BENCH_HOT_GET_MULTIPLEX=0 leaves it out)' : '';
      throw new Error(`${(err as Error).message}${hint}`);
    }
    return started;
  }
  if (candidate === 'haproxy') {
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, haproxyConf(port, nodePorts));
    const started = startGroup(candidate, 'haproxy', ['-db', '-f', file], PINNED.proxy);
    await waitForHttp(url, started);
    return started;
  }
  const proxyDir = join(dir, candidate);
  // As many idle upstream connections as the load has clients (the main bench's 128 is for -c64):
  // with fewer, nginx closes the surplus after each burst and reopens connections all run long.
  const keepalive = Math.max(128, connections);
  const started = startNginx(candidate, proxyDir, nginxProxyConf(proxyDir, port, nodePorts, keepalive), PINNED.proxy);
  await waitForHttp(url, started);
  return started;
}

/** The measured run, with what the backend counted while it went on. */
async function counted(backend: HotGetBackend, gateway: Started, load: () => ReturnType<typeof runWrk>): Promise<Measured & Upstream> {
  const before = await backend.stats();
  const cpuBefore = groupCpuSeconds(backend.proc.pgid);
  const result = await measure(gateway, load);
  await sleep(SETTLE_MS);
  const after = await backend.stats();
  const cpuSeconds = groupCpuSeconds(backend.proc.pgid) - cpuBefore;
  return {
    ...result,
    upstreamCalls: after.requests - before.requests,
    perNode: Object.keys(after.perPort).map((p) => after.perPort[p]! - (before.perPort[p] ?? 0)),
    newConnections: after.connections - before.connections,
    backendCpuUsPerRequest: (cpuSeconds * 1e6) / Math.max(1, result.requests),
  };
}

/** One gateway's run, everything started afresh: backend, gateway; warm-up, then measured. */
async function runOnce(candidate: Candidate, round: number, dir: string, opts: Options): Promise<HotGetRun> {
  const runDir = join(dir, `round-${round}-${candidate}`);
  mkdirSync(runDir, { recursive: true });
  const nodePorts = await Promise.all(Array.from({ length: NODES }, freePort));
  const port = await freePort();
  const started: Started[] = [];
  try {
    const backend = await startHotGetBackend(nodePorts, opts.delayMs, PINNED.upstream);
    started.push(backend.proc);
    const gateway = await startGateway(candidate, runDir, port, nodePorts, opts.connections);
    started.push(gateway);
    await checkHotGet(port, opts.paths, candidate);
    const load = (seconds: number) => () =>
      runWrk({ url: `http://127.0.0.1:${port}`, scriptPath: opts.scriptPath, connections: opts.connections, seconds, cpus: PINNED.load });
    if (opts.warmupSeconds > 0) await load(opts.warmupSeconds)();
    return { candidate, round, measured: await counted(backend, gateway, load(opts.seconds)) };
  } finally {
    for (const proc of started.reverse()) await proc.stop();
  }
}

function describe(opts: Options, candidates: readonly Candidate[]): string {
  const multiplexNote = opts.multiplex
    ? ''
    : ' **Multiplexing not measured** (BENCH_HOT_GET_MULTIPLEX=0: the build measured has no route option `multiplex`); ringgate ran without it only.';
  return (
    `${candidates.length} gateways in front of one backend on ${NODES} ports (a ${NODES}-node cluster: a Node server answering every GET ` +
    `${opts.delayMs} ms late with 1 KiB, counting what it receives). wrk -t1 -c${opts.connections}, GET of ${opts.paths.length} URLs ` +
    `(${opts.paths.join(', ')}) in turn, all for tenant \`hot\`. Pinned: the gateway on CPU 0, backend and wrk on CPU 1. ` +
    `${opts.rounds} interleaved round${opts.rounds === 1 ? '' : 's'} of ${opts.warmupSeconds} s warm-up + ${opts.seconds} s measured, every process started afresh ` +
    `for each run. nginx and HAProxy: the main bench's configs over the ${NODES} nodes (round robin, upstream keep-alive, no cache; ` +
    `nginx keeps up to ${Math.max(128, opts.connections)} idle upstream connections). ` +
    `ringgate: ${describeCheckout(ROOT)}, 1 thread, one route \`/\` with \`"multiplex": true\` (${LABELS.ringgate}) or without the key ` +
    `(${LABELS['ringgate-multiplex-off']}), defaults otherwise.${multiplexNote}`
  );
}

async function main(): Promise<void> {
  const multiplex = process.env.BENCH_HOT_GET_MULTIPLEX !== '0';
  const candidates = candidatesFromEnv(process.env, multiplex);
  execFileSync(join(HERE, 'install-tools.sh'), { stdio: 'inherit' });
  const dir = scratchDir('ringgate-hot-get-');
  const opts: Options = {
    seconds: intFromEnv(process.env, 'BENCH_SECONDS', 10, 1),
    warmupSeconds: intFromEnv(process.env, 'BENCH_WARMUP_SECONDS', 2, 0),
    rounds: intFromEnv(process.env, 'BENCH_ROUNDS', 3, 1),
    connections: intFromEnv(process.env, 'BENCH_CONNECTIONS', 256, 1),
    delayMs: intFromEnv(process.env, 'BENCH_HOT_GET_DELAY_MS', 5, 0),
    paths: hotPaths(intFromEnv(process.env, 'BENCH_HOT_GET_PATHS', 4, 1)),
    multiplex,
    scriptPath: join(dir, 'hot-get.lua'),
  };
  const runs: HotGetRun[] = [];
  try {
    writeFileSync(opts.scriptPath, hotGetScript(opts.paths));
    for (let round = 1; round <= opts.rounds; round++) {
      for (const candidate of candidates) {
        const run = await runOnce(candidate, round, dir, opts);
        runs.push(run);
        const m = run.measured;
        progress(`round ${round} ${candidate}: ${m.rps.toFixed(0)} rps, p99 ${m.p99Ms.toFixed(1)} ms, ${m.errors} errors, ` +
          `${(m.upstreamCalls / Math.max(1, m.requests)).toFixed(3)} upstream calls per request`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const date = new Date().toISOString();
  const targets = targetsLine(runs);
  const markdown = [
    `# native-bench hot-get, ${date.slice(0, 10)}`,
    '',
    describe(opts, candidates),
    '',
    hotGetTable(runs, candidates),
    '',
    'Medians of the rounds. RPS ÷ nginx and fewer upstream calls than nginx: each round against nginx in the same round, then the ' +
      'median. Errors: what wrk saw (non-2xx answers and socket errors). Upstream calls per request: requests the backend received ' +
      'over requests wrk completed (1 for a proxy that sends each one on, a little above it because the calls still ' +
      'in flight when wrk stops, up to one per connection, are counted by the backend and not by wrk). New upstream connections: connections to the backend ' +
      'first used during the measured run (a pool that keeps too few idle ones keeps opening new ones). Backend CPU: the backend ' +
      'shares CPU 1 with wrk, so what a gateway saves it there becomes load wrk can send.',
    ...(targets === null ? [] : ['', targets]),
    '',
  ].join('\n');
  mkdirSync(RESULTS, { recursive: true });
  const stamp = date.replace(/[:.]/g, '-');
  const { seconds, warmupSeconds, rounds, connections, delayMs, paths } = opts;
  const json = { date, seconds, warmupSeconds, rounds, connections, delayMs, paths, multiplex, candidates, runs };
  writeFileSync(join(RESULTS, `hot-get-${stamp}.json`), JSON.stringify(json, null, 2));
  writeFileSync(join(RESULTS, 'hot-get-latest.md'), markdown);
  process.stdout.write(markdown);
}

await main();
