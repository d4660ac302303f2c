/**
 * Garbage per request (`npm run bench:garbage`, issue 15): ringgate-1t under --trace-gc, pinned as
 * the main bench, wrk -c64 on each scenario; the collections logged during each measured run are
 * summed over every isolate and divided by the requests. With BENCH_RINGGATE_BASELINE, that build
 * runs too, in interleaved rounds, with the same config. Knobs in README.md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOutBaseline, describeCheckout, resolveBaseline } from './lib/baseline.js';
import { writeBuildReport } from './lib/build-report.js';
import { featureEnv, ringgateEnv, writeRinggateConfig, type ConfigFeatures } from './lib/candidates.js';
import { benchOptions, PINNED } from './lib/options.js';
import { freePort, groupCpuSeconds, groupMinorFaults, startGroup, waitForHttp, type Started } from './lib/proc.js';
import { checkScenario, scenarioNamed, wrkScript } from './lib/scenarios.js';
import { median } from './lib/stats.js';
import { parseTraceGc, type GcSummary } from './lib/trace-gc.js';
import { scratchDir, startUpstream } from './lib/upstream.js';
import { runWrk } from './lib/wrk.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const DEFAULT_SCENARIOS = ['get-1k', 'get-64k'];

const progress = (line: string): boolean => process.stderr.write(`${line}\n`);

interface Build {
  readonly name: string;
  readonly root: string;
}

interface Round extends GcSummary {
  readonly requests: number;
  readonly rps: number;
  readonly cpuUsPerRequest: number;
  readonly minorFaults: number;
}

interface Gateway {
  readonly build: Build;
  readonly port: number;
  readonly proc: Started;
  /** Where its stdout (the --trace-gc lines) goes: read by byte offset around each run. */
  readonly log: string;
}

/** ringgate with every thread's collections (--trace-gc-nvp: one line of fields each) on stdout, written to a file (the group's output() keeps only its tail). */
async function startRinggate(build: Build, dir: string, upstreamPorts: readonly number[], features: ConfigFeatures): Promise<Gateway> {
  const port = await freePort();
  const config = writeRinggateConfig(join(dir, `${build.name}.json`), upstreamPorts, features);
  const log = join(dir, `${build.name}.gc.log`);
  const env = ringgateEnv(config, port, { GATEWAY_THREADS: '1', ...featureEnv(features) });
  // sh execs node, so the group's leader is ringgate itself and stop() reaches it as in the bench.
  const args = ['-c', `exec "$0" --trace-gc-nvp "$1" > "$2"`, process.execPath, join(build.root, 'dist/main.js'), log];
  const proc = startGroup(build.name, 'sh', args, PINNED.proxy, env);
  await waitForHttp(`http://127.0.0.1:${port}/`, proc, { 'x-tenant-id': 'bench-ready' });
  return { build, port, proc, log };
}

async function measureRound(gateway: Gateway, scriptPath: string, seconds: number, warmupSeconds: number, connections: number): Promise<Round> {
  const url = `http://127.0.0.1:${gateway.port}`;
  if (warmupSeconds > 0) await runWrk({ url, scriptPath, connections, seconds: warmupSeconds, cpus: PINNED.load });
  const from = statSync(gateway.log).size;
  const cpuBefore = groupCpuSeconds(gateway.proc.pgid);
  const faultsBefore = groupMinorFaults(gateway.proc.pgid);
  const load = await runWrk({ url, scriptPath, connections, seconds, cpus: PINNED.load });
  const cpuSeconds = groupCpuSeconds(gateway.proc.pgid) - cpuBefore;
  const minorFaults = groupMinorFaults(gateway.proc.pgid) - faultsBefore;
  const logged = readFileSync(gateway.log).subarray(from).toString('utf8');
  if (load.answered === 0) throw new Error(`${gateway.build.name} answered no request 2xx or 3xx in a round (${load.errorKinds})`);
  return { ...parseTraceGc(logged), requests: load.requests, rps: load.rps, cpuUsPerRequest: (cpuSeconds * 1e6) / load.answered, minorFaults };
}

function table(scenario: string, rows: ReadonlyMap<string, Round[]>): string {
  const lines = [
    `## ${scenario}`,
    '',
    '| build | RPS | garbage B/req | promoted B/req | scavenges per 1k req | mark-compacts per 1k req | GC pause µs/req | page faults per req | CPU µs/req | garbage B/req, each round |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, rounds] of rows) {
    const per = (pick: (r: Round) => number, scale: number, digits: number): string => median(rounds.map((r) => (pick(r) * scale) / r.requests)).toFixed(digits);
    lines.push(
      `| ${name} | ${median(rounds.map((r) => r.rps)).toFixed(0)} | ${per((r) => r.freedBytes, 1, 0)} | ${per((r) => r.promotedBytes, 1, 0)} | ${per((r) => r.scavenges, 1000, 2)} | ` +
        `${per((r) => r.markCompacts, 1000, 3)} | ${per((r) => r.pauseMs, 1000, 2)} | ${per((r) => r.minorFaults, 1, 2)} | ${median(rounds.map((r) => r.cpuUsPerRequest)).toFixed(1)} | ` +
        `${rounds.map((r) => (r.freedBytes / r.requests).toFixed(0)).join(', ')} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = benchOptions({ BENCH_ROUNDS: '3', ...process.env });
  const scenarios = (options.scenarios ?? DEFAULT_SCENARIOS).map((name) => scenarioNamed(name, 'BENCH_SCENARIOS'));
  const baseline = options.baseline === null ? null : resolveBaseline(ROOT, options.baseline);
  const current = describeCheckout(ROOT);
  execFileSync(join(HERE, 'install-tools.sh'), { stdio: 'inherit' });
  const removeBaseline = baseline === null ? null : checkOutBaseline(ROOT, baseline, progress);
  const builds: Build[] = [...(baseline === null ? [] : [{ name: `ringgate-base-1t (${baseline.short})`, root: baseline.root }]), { name: 'ringgate-1t', root: ROOT }];
  const features: ConfigFeatures = { everyFeature: options.everyFeature };
  const dir = scratchDir('ringgate-garbage-');
  const upstreamPorts = [await freePort(), await freePort(), await freePort()];
  const upstream = await startUpstream(join(dir, 'upstream'), upstreamPorts, PINNED.upstream);
  const gateways: Gateway[] = [];
  const sections: string[] = [];
  try {
    for (const build of builds) gateways.push(await startRinggate(build, dir, upstreamPorts, features));
    for (const scenario of scenarios) {
      const scriptPath = join(dir, `${scenario.name}.lua`);
      writeFileSync(scriptPath, wrkScript(scenario));
      for (const gateway of gateways) await checkScenario(scenario, gateway.port, gateway.build.name);
      const rows = new Map<string, Round[]>(gateways.map((g) => [g.build.name, []]));
      for (let round = 1; round <= options.rounds; round++) {
        for (const gateway of gateways) {
          const result = await measureRound(gateway, scriptPath, options.seconds, options.warmupSeconds, options.connections);
          rows.get(gateway.build.name)!.push(result);
          progress(`${scenario.name} round ${round} ${gateway.build.name}: ${result.rps.toFixed(0)} rps, ${(result.freedBytes / result.requests).toFixed(0)} B/req garbage, ${(result.promotedBytes / result.requests).toFixed(0)} B/req promoted, ${result.scavenges} scavenges, ${result.markCompacts} mark-compacts, ${(result.minorFaults / result.requests).toFixed(2)} page faults/req`);
        }
      }
      sections.push(table(scenario.name, rows));
    }
  } finally {
    for (const gateway of gateways) await gateway.proc.stop();
    await upstream.stop();
    removeBaseline?.();
    rmSync(dir, { recursive: true, force: true });
  }
  writeBuildReport({
    kind: 'garbage',
    title: 'Garbage per request',
    current,
    baseline,
    run:
      `node --trace-gc-nvp, GATEWAY_THREADS=1, ${options.everyFeature ? 'every feature configured, none triggered' : 'a plain cluster'}; wrk -t1 -c${options.connections}, ${options.warmupSeconds} s warm-up + ${options.seconds} s measured, ${options.rounds} interleaved rounds; pinned = ringgate on CPU 0, upstream and wrk on CPU 1. ` +
      'Garbage: the V8 heap shrinkage of every collection in the measured run (all isolates), over its requests; buffers outside the heap show only as the collections they cause, and as page faults when malloc gives their memory back and takes it again. Promoted: what the scavenges moved to the old generation (objects that lived through two), freed only by a Mark-Compact. Medians of the rounds.',
    sections,
  });
}

await main();
