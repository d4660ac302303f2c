/**
 * Instructions per request (`npm run bench:instructions`): ringgate-1t under valgrind's callgrind,
 * wrk -c64 on each scenario, the acceptor thread's instructions counted over the measured run and
 * divided by its requests, with each function's share. A count the VM's neighbours move little:
 * runs of one build read within 1–5% of each other (more when the JIT has not settled), where CPU
 * µs/req of one build moves 5–10% between runs here. What it cannot see: the kernel's work (the
 * syscalls), cache misses, and time.
 * With BENCH_RINGGATE_BASELINE, that build runs too and the functions that changed most are listed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOutBaseline, describeCheckout, resolveBaseline } from './lib/baseline.js';
import { writeBuildReport } from './lib/build-report.js';
import { acceptorThread, callgrindArgs, callgrindControl, NODE_FLAGS, PerfMap, perfMapPath, readDump, type ThreadCount } from './lib/callgrind.js';
import { featureEnv, ringgateEnv, writeRinggateConfig, type ConfigFeatures } from './lib/candidates.js';
import { benchOptions, PINNED } from './lib/options.js';
import { freePort, startGroup, waitForHttp, type Started } from './lib/proc.js';
import { checkScenario, scenarioNamed, wrkScript } from './lib/scenarios.js';
import { scratchDir, startUpstream } from './lib/upstream.js';
import { runWrk } from './lib/wrk.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const DEFAULT_SCENARIOS = ['get-1k', 'post-4k'];
/** Functions listed per scenario: the costliest of this checkout, and the largest changes from the baseline. */
const LISTED = 25;
/** Start-up under callgrind takes 20–60 s here. */
const START_TIMEOUT_MS = 180_000;

const progress = (line: string): boolean => process.stderr.write(`${line}\n`);

interface Build {
  readonly name: string;
  readonly root: string;
}

interface Gateway {
  readonly build: Build;
  readonly port: number;
  readonly proc: Started;
  readonly outFile: string;
}

interface Count {
  readonly requests: number;
  readonly acceptor: ThreadCount;
  /** Every thread: the coordinator's timers and V8's compiler threads too, which the load's pace moves. */
  readonly allThreads: number;
}

async function startRinggate(build: Build, dir: string, upstreamPorts: readonly number[], features: ConfigFeatures): Promise<Gateway> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const config = writeRinggateConfig(join(dir, `${build.name}.json`), upstreamPorts, features);
  const env = ringgateEnv(config, port, { GATEWAY_THREADS: '1', ...featureEnv(features) });
  const outFile = join(dir, `${build.name}.callgrind`);
  const args = [...callgrindArgs(outFile), process.execPath, ...NODE_FLAGS, join(build.root, 'dist/main.js')];
  const proc = startGroup(build.name, 'valgrind', args, PINNED.proxy, env);
  await waitForHttp(`http://127.0.0.1:${port}/`, proc, { 'x-tenant-id': 'bench-ready' }, START_TIMEOUT_MS);
  return { build, port, proc, outFile };
}

/** Stops it and removes the perf map V8 wrote for it. */
async function stopRinggate(gateway: Gateway): Promise<void> {
  await gateway.proc.stop();
  rmSync(perfMapPath(gateway.proc.child.pid!), { force: true });
}

async function measure(gateway: Gateway, scriptPath: string, seconds: number, warmupSeconds: number, connections: number): Promise<Count> {
  const url = `http://127.0.0.1:${gateway.port}`;
  const pid = gateway.proc.child.pid!;
  if (warmupSeconds > 0) await runWrk({ url, scriptPath, connections, seconds: warmupSeconds, cpus: PINNED.load });
  callgrindControl(pid, 'on');
  const load = await runWrk({ url, scriptPath, connections, seconds, cpus: PINNED.load });
  callgrindControl(pid, 'dump');
  if (load.answered === 0) throw new Error(`${gateway.build.name} answered no request 2xx or 3xx (${load.errorKinds})`);
  const threads = readDump(gateway.outFile, 1, new PerfMap(perfMapPath(pid)));
  return { requests: load.answered, acceptor: acceptorThread(threads), allThreads: threads.reduce((sum, t) => sum + t.total, 0) };
}

const perRequest = (count: Count, instructions: number): string => Math.round(instructions / count.requests).toLocaleString('en-US');

function table(scenario: string, counts: ReadonlyMap<string, Count>): string {
  const lines = [
    `## ${scenario}`,
    '',
    '| build | requests | acceptor thread, instructions/req | all threads, instructions/req |',
    '|---|---:|---:|---:|',
  ];
  for (const [name, count] of counts) lines.push(`| ${name} | ${count.requests} | ${perRequest(count, count.acceptor.total)} | ${perRequest(count, count.allThreads)} |`);
  const [current, base] = [...counts.values()].reverse() as [Count, Count | undefined];
  lines.push('', "The acceptor's costliest functions in ringgate-1t (own instructions per request):", '');
  lines.push('| function | instructions/req |', '|---|---:|');
  const own = [...current.acceptor.functions].sort((a, b) => b[1] - a[1]).slice(0, LISTED);
  for (const [fn, instructions] of own) lines.push(`| \`${fn}\` | ${perRequest(current, instructions)} |`);
  if (base !== undefined) {
    lines.push('', 'The largest changes from the baseline (own instructions per request; a function inlined into another moves its cost there):', '');
    lines.push('| function | baseline | this checkout | change |', '|---|---:|---:|---:|');
    const names = new Set([...base.acceptor.functions.keys(), ...current.acceptor.functions.keys()]);
    const change = (fn: string): [number, number] => [(base.acceptor.functions.get(fn) ?? 0) / base.requests, (current.acceptor.functions.get(fn) ?? 0) / current.requests];
    const changed = [...names].map((fn) => [fn, ...change(fn)] as const).sort((a, b) => Math.abs(b[2] - b[1]) - Math.abs(a[2] - a[1]));
    for (const [fn, before, after] of changed.slice(0, LISTED)) {
      lines.push(`| \`${fn}\` | ${Math.round(before)} | ${Math.round(after)} | ${after - before >= 0 ? '+' : ''}${Math.round(after - before)} |`);
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = benchOptions({ BENCH_SECONDS: '20', BENCH_WARMUP_SECONDS: '20', ...process.env });
  const scenarios = (options.scenarios ?? DEFAULT_SCENARIOS).map((name) => scenarioNamed(name, 'BENCH_SCENARIOS'));
  const baseline = options.baseline === null ? null : resolveBaseline(ROOT, options.baseline);
  const current = describeCheckout(ROOT);
  execFileSync(join(HERE, 'install-tools.sh'), ['valgrind'], { stdio: 'inherit' });
  const removeBaseline = baseline === null ? null : checkOutBaseline(ROOT, baseline, progress);
  const builds: Build[] = [...(baseline === null ? [] : [{ name: 'ringgate-base-1t', root: baseline.root }]), { name: 'ringgate-1t', root: ROOT }];
  const features: ConfigFeatures = { everyFeature: options.everyFeature };
  const dir = scratchDir('ringgate-instructions-');
  const upstreamPorts = [await freePort(), await freePort(), await freePort()];
  const upstream = await startUpstream(join(dir, 'upstream'), upstreamPorts, PINNED.upstream);
  const sections: string[] = [];
  const live = new Set<Gateway>();
  try {
    for (const scenario of scenarios) {
      const scriptPath = join(dir, `${scenario.name}.lua`);
      writeFileSync(scriptPath, wrkScript(scenario));
      const counts = new Map<string, Count>();
      // A process per scenario and build: what the JIT made of one scenario does not count in the next.
      for (const build of builds) {
        const gateway = await startRinggate(build, join(dir, scenario.name), upstreamPorts, features);
        live.add(gateway);
        await checkScenario(scenario, gateway.port, build.name);
        const count = await measure(gateway, scriptPath, options.seconds, options.warmupSeconds, options.connections);
        await stopRinggate(gateway);
        live.delete(gateway);
        counts.set(build.name, count);
        progress(`${scenario.name} ${build.name}: ${count.requests} requests, ${perRequest(count, count.acceptor.total)} acceptor instructions/req`);
      }
      sections.push(table(scenario.name, counts));
    }
  } finally {
    for (const gateway of live) await stopRinggate(gateway);
    await upstream.stop();
    removeBaseline?.();
    rmSync(dir, { recursive: true, force: true });
  }
  writeBuildReport({
    kind: 'instructions',
    title: 'Instructions per request',
    current,
    baseline,
    run:
      `valgrind --tool=callgrind, node ${NODE_FLAGS.join(' ')}, GATEWAY_THREADS=1, ${options.everyFeature ? 'every feature configured, none triggered' : 'a plain cluster'}; ` +
      `wrk -t1 -c${options.connections}, ${options.warmupSeconds} s warm-up uncounted + ${options.seconds} s counted; ringgate on CPU 0, upstream and wrk on CPU 1. ` +
      'Instructions of the acceptor thread over the counted run, over the requests wrk saw answered in it (the few it left in flight at its end are counted but not answered: under 1%). User-space only: the kernel\'s share (syscalls) is not in it.',
    sections,
  });
}

await main();
