/**
 * native-bench: ringgate beside direct, nginx, HAProxy, @fastify/http-proxy and a bare uWS + undici
 * proxy against one nginx upstream, in interleaved rounds, pinned and unpinned. `npm run bench`;
 * knobs in README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAutocannon } from './lib/autocannon.js';
import { isBaselineName } from './lib/ab.js';
import { checkOutBaseline, describeCheckout, resolveBaseline } from './lib/baseline.js';
import { allCandidates, type Candidate } from './lib/candidates.js';
import { coreVersions, describeMachine, toolVersion } from './lib/machine.js';
import { measure } from './lib/measure.js';
import { benchOptions, LAYOUTS, pacedRateRule, pacedTargets, type BenchOptions, type Layout } from './lib/options.js';
import { freePort, lastLines, pauseOthers, type Started } from './lib/proc.js';
import { markdownReport, summarize, type Row } from './lib/report.js';
import { checkScenario, SCENARIOS, scenarioRequests, wrkScript, type Scenario } from './lib/scenarios.js';
import { buildPoissonLoad, runPoisson } from './lib/poisson.js';
import { scratchDir, startOtlpSink, startRedisServer, startUpstream } from './lib/upstream.js';
import { runWrk, type LoadResult } from './lib/wrk.js';
import { runMicroBenchmarks } from './micro/run.js';
import { microTable } from './micro/suite.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const RESULTS = join(HERE, 'results');
/** Scenarios past get-1k compare ringgate with the proxy a user would pick instead, and direct. */
const SCENARIO_CANDIDATES = new Set(['direct', 'nginx', 'ringgate-base-1t', 'ringgate-1t', 'ringgate-redis-1t', 'ringgate-base-2t', 'ringgate-2t', 'ringgate-redis-2t']);
const UPSTREAM_NODES = 3;
/** Each paced connection waits this long between requests; connections = rate × pace. */
const PACE_MS = 10;

const progress = (line: string): boolean => process.stderr.write(`${line}\n`);

/** "; errors: wrk proxy read 3, …": what the paced runs of a round counted, empty without any. */
function pacedErrors(runs: readonly [LoadResult, LoadResult, LoadResult, LoadResult]): string {
  const labels = ['wrk proxy', 'wrk direct', 'Poisson proxy', 'Poisson direct'];
  const kinds = runs.flatMap((r, i) => (r.errors > 0 ? [`${labels[i]} ${r.errorKinds}`] : []));
  return kinds.length > 0 ? `; errors: ${kinds.join('; ')}` : '';
}

function selected<T extends { name: string }>(items: readonly T[], names: readonly string[] | null): T[] {
  if (names === null) return [...items];
  const unknown = names.filter((n) => !items.some((item) => item.name === n));
  if (unknown.length > 0) throw new Error(`unknown name(s) ${unknown.join(', ')}; known: ${items.map((i) => i.name).join(', ')}`);
  return items.filter((item) => names.includes(item.name));
}

async function runLayout(layout: Layout, candidates: readonly Candidate[], options: BenchOptions, dir: string, rows: Row[]): Promise<void> {
  const upstreamPorts = await Promise.all(Array.from({ length: UPSTREAM_NODES }, freePort));
  const upstream = await startUpstream(join(dir, `upstream-${layout.name}`), upstreamPorts, layout.upstream);
  const redisPort = candidates.some((c) => c.needsRedis === true) ? await freePort() : null;
  const redis = redisPort === null ? null : await startRedisServer(redisPort, layout.upstream);
  const redisUrl = redisPort === null ? null : `redis://127.0.0.1:${redisPort}`;
  const sinkPort = candidates.some((c) => c.needsOtlpSink === true) ? await freePort() : null;
  const sink = sinkPort === null ? null : await startOtlpSink(sinkPort, layout.upstream);
  const otlpUrl = sinkPort === null ? null : `http://127.0.0.1:${sinkPort}`;
  const running = new Map<string, { port: number; proc: Started | null }>();
  const layoutDir = join(dir, layout.name);
  mkdirSync(layoutDir, { recursive: true });
  try {
    for (const candidate of candidates) {
      const port = candidate.name === 'direct' ? upstreamPorts[0]! : await freePort();
      const proc = await candidate.start({ dir: layoutDir, port, upstreamPorts, cpus: layout.proxy, redisUrl, otlpUrl });
      running.set(candidate.name, { port, proc });
    }
    const scenarios = selected(SCENARIOS, options.scenarios).filter((s) => layout.allScenarios || s.name === 'get-1k');
    for (const scenario of scenarios) await runScenario(layout, scenario, options, dir, running, rows);
  } finally {
    for (const { proc } of running.values()) await proc?.stop();
    await upstream.stop();
    await redis?.stop();
    await sink?.stop();
  }
}

async function runScenario(
  layout: Layout,
  scenario: Scenario,
  options: BenchOptions,
  dir: string,
  running: Map<string, { port: number; proc: Started | null }>,
  rows: Row[],
): Promise<void> {
  const scriptPath = join(dir, `${scenario.name}.lua`);
  writeFileSync(scriptPath, wrkScript(scenario));
  const names = [...running.keys()].filter((name) => scenario.name === 'get-1k' || SCENARIO_CANDIDATES.has(name));
  const scenarioRows = names.map((candidate) => ({ layout: layout.name, scenario: scenario.name, candidate, rounds: [] }) as Row);
  rows.push(...scenarioRows);
  const wrkFor = (port: number, seconds: number, path = scriptPath, connections = options.connections) => () =>
    runWrk({ url: `http://127.0.0.1:${port}`, scriptPath: path, connections, seconds, cpus: layout.load });
  // Each load (its warm-up included) runs with every other candidate paused: only the measured one's own work shares its CPU.
  const alone = async <T>(proc: Started | null, load: () => Promise<T>): Promise<T> => {
    const resume = pauseOthers([...running.values()].map((r) => r.proc), proc);
    try {
      return await load();
    } finally {
      resume();
    }
  };

  // A load of errors would be measured as fast as any: every candidate must answer one request right first.
  for (const row of scenarioRows) await checkScenario(scenario, running.get(row.candidate)!.port, row.candidate);

  // Interleaved rounds (A B C … A B C …), so drift in the machine hits every candidate alike.
  for (let round = 1; round <= options.rounds; round++) {
    for (const row of scenarioRows) {
      const { port, proc } = running.get(row.candidate)!;
      const result = await alone(proc, async () => {
        if (options.warmupSeconds > 0) await wrkFor(port, options.warmupSeconds)();
        return measure(proc, wrkFor(port, options.seconds));
      });
      row.rounds.push(result);
      progress(
        `${layout.name} ${scenario.name} round ${round} ${row.candidate}: ${result.rps.toFixed(0)} rps, p99 ${result.p99Ms.toFixed(2)} ms, ` +
          `${result.cpuUsPerRequest?.toFixed(1) ?? '–'} µs/req (kernel ${result.systemUsPerRequest?.toFixed(1) ?? '–'}), errors ${result.errors}${result.errors > 0 ? ` (${result.errorKinds})` : ''}`,
      );
      // What the candidate logged (ringgate: its warnings) says why; the scratch dir and its logs go with the run.
      if (result.errors > 0 && proc !== null) progress(`${row.candidate}'s last output:\n${lastLines(proc.output(), 12)}`);
    }
  }
  if (scenario.name !== 'get-1k') return;

  if (options.autocannon) {
    for (const row of scenarioRows) {
      const { port, proc } = running.get(row.candidate)!;
      const url = `http://127.0.0.1:${port}/`;
      row.autocannon = await alone(proc, () => measure(proc, () => runAutocannon(url, scenario.shapes[0]!.tenants[0]!, options.connections, options.seconds, layout.load)));
      progress(`${layout.name} autocannon ${row.candidate}: ${row.autocannon.rps.toFixed(0)} rps`);
    }
  }
  if (options.paced && layout.name === 'pinned') {
    const directPort = running.get('direct')?.port;
    if (directPort === undefined) return;
    const pacedPath = join(dir, `${scenario.name}-paced.lua`);
    writeFileSync(pacedPath, wrkScript(scenario, PACE_MS));
    const paced = scenarioRows.filter((r) => r.candidate !== 'direct');
    const targets = pacedTargets(paced.map((row) => summarize(row).rps), options.pacedRate);
    const rateRule = pacedRateRule(options.pacedRate);
    paced.forEach((row, i) => (row.paced = { targetRps: targets[i]!, rateRule, proxy: [], direct: [], poisson: [], poissonDirect: [] }));
    const poissonTool = await buildPoissonLoad(dir);
    // The requests wrk cycles through: no two reads in flight alike, so multiplexing shares none.
    const poissonRequests = scenarioRequests(scenario);
    // The tail on this machine moves run to run: interleaved rounds, proxy then direct at its pacing.
    for (let round = 1; round <= options.rounds; round++) {
      for (const row of paced) {
        const { targetRps, proxy, direct, poisson, poissonDirect } = row.paced!;
        const connections = Math.max(1, Math.round((targetRps * PACE_MS) / 1000));
        const { port: proxyPort, proc } = running.get(row.candidate)!;
        for (const [port, measured, results] of [[proxyPort, proc, proxy], [directPort, null, direct]] as const) {
          // Warm up at the same pacing: the jump from 64 connections to this many (new client and
          // upstream connections, re-tiered JIT code) otherwise lands in the measured tail.
          const result = await alone(measured, async () => {
            if (options.warmupSeconds > 0) await wrkFor(port, options.warmupSeconds, pacedPath, connections)();
            return wrkFor(port, options.seconds, pacedPath, connections)();
          });
          results.push(result);
        }
        // The same rate again with Poisson arrivals (poisson-load.c says why), warm-up included.
        for (const [port, measured, results] of [[proxyPort, proc, poisson], [directPort, null, poissonDirect]] as const) {
          const run = { tool: poissonTool, port, rate: targetRps, connections, seconds: options.seconds, warmupSeconds: options.warmupSeconds };
          results.push(await alone(measured, () => runPoisson({ ...run, requests: poissonRequests, dir, cpus: layout.load })));
        }
        progress(
          `${layout.name} paced round ${round} ${row.candidate} at ~${targetRps.toFixed(0)} rps: ` +
            `p99 ${proxy.at(-1)!.p99Ms.toFixed(2)} ms vs direct ${direct.at(-1)!.p99Ms.toFixed(2)} ms; ` +
            `Poisson arrivals p99 ${poisson.at(-1)!.p99Ms.toFixed(2)} ms vs direct ${poissonDirect.at(-1)!.p99Ms.toFixed(2)} ms` +
            pacedErrors([proxy.at(-1)!, direct.at(-1)!, poisson.at(-1)!, poissonDirect.at(-1)!]),
        );
      }
    }
  }
}

async function main(): Promise<void> {
  const options = benchOptions(process.env);
  // Names and the revision are checked before the tools' install and the baseline's build.
  if (options.baseline === null && options.candidates?.some(isBaselineName)) {
    throw new Error('ringgate-base-* candidates run the build of BENCH_RINGGATE_BASELINE, which is not set');
  }
  const baseline = options.baseline === null ? null : resolveBaseline(ROOT, options.baseline);
  // Read now: dist/ was built from the working tree just before this script started.
  const builds = baseline === null ? null : { current: describeCheckout(ROOT), baseline: baseline.revision, baselineShort: baseline.short };
  if (options.redisRateLimit && options.rateLimit === 0 && !options.everyFeature) {
    throw new Error('BENCH_RINGGATE_REDIS=1 measures a rate limit in Redis: set BENCH_RINGGATE_RATE_LIMIT too (BENCH_RINGGATE_FEATURES=all has one)');
  }
  const features = { everyFeature: options.everyFeature, nodeState: options.nodeState, maxInFlight: options.maxInFlight, rateLimit: options.rateLimit };
  const ringgates = { baselineRoot: baseline?.root ?? null, features, redisRateLimit: options.redisRateLimit, tracing: options.tracing, accessLog: options.accessLog };
  const candidates = selected(allCandidates(ringgates), options.candidates);
  if (baseline !== null && !candidates.some((c) => isBaselineName(c.name))) {
    throw new Error('BENCH_RINGGATE_BASELINE is set but BENCH_CANDIDATES selects no ringgate-base-* candidate to run it');
  }
  const layouts = selected(LAYOUTS, options.layouts);
  execFileSync(join(HERE, 'install-tools.sh'), { stdio: 'inherit' });
  const removeBaseline = baseline === null ? null : checkOutBaseline(ROOT, baseline, progress);
  const dir = scratchDir('ringgate-bench-');
  const rows: Row[] = [];
  try {
    for (const layout of layouts) await runLayout(layout, candidates, options, dir, rows);
  } finally {
    removeBaseline?.();
    rmSync(dir, { recursive: true, force: true });
  }
  const date = new Date().toISOString();
  const [node, nginx, wrk] = coreVersions();
  const info = {
    date: date.slice(0, 10),
    machine: describeMachine(),
    versions: [node, nginx, toolVersion('haproxy', ['-v']).split(' - ')[0]!, wrk].join(', '),
    settings: `wrk -t1 -c${options.connections}, ${options.warmupSeconds} s warm-up + ${options.seconds} s measured, ${options.rounds} interleaved rounds; pinned = proxy on CPU 0, upstream and load generator on CPU 1${options.everyFeature ? '; ringgate-* with every feature configured and none triggered (node state, breakers, retries, cache header, multiplex, idempotency keys, maxInFlight, rate limit)' : ''}${options.nodeState ? '; ringgate-* with node state on (health checks every 1 s, GATEWAY_ZONE set)' : ''}${options.maxInFlight > 0 ? `; ringgate-* with maxInFlight ${options.maxInFlight}` : ''}${options.rateLimit > 0 ? `; ringgate-* with a rate limit of ${options.rateLimit}/s per tenant` : ''}${options.redisRateLimit ? ' (ringgate-redis-*: counted in Redis, redis-server pinned with the upstream)' : ''}${options.tracing ? '; ringgate-trace1-* / -trace100-*: spans of 1% / all requests over OTLP/HTTP to a sink pinned with the upstream' : ''}${options.accessLog ? '; ringgate-log-*: the access log on (every other ringgate runs with GATEWAY_ACCESS_LOG=off)' : ''}`,
    scenarios: new Map(SCENARIOS.map((s) => [s.name, s.description])),
    builds,
  };
  const micro = options.micro ? await runMicroBenchmarks() : [];
  const markdown = markdownReport(info, rows) + (micro.length > 0 ? `\n## Micro-benchmarks (npm run bench:micro)\n${microTable(micro)}\n` : '');
  mkdirSync(RESULTS, { recursive: true });
  const stamp = date.replace(/[:.]/g, '-');
  writeFileSync(join(RESULTS, `${stamp}.json`), JSON.stringify({ info: { ...info, scenarios: Object.fromEntries(info.scenarios) }, options, rows, micro }, null, 2));
  writeFileSync(join(RESULTS, `${stamp}.md`), markdown);
  // latest.md is the committed full run the README quotes: a run narrowed to some candidates,
  // scenarios or layouts (an A/B, say) must not replace it.
  if (options.candidates === null && options.scenarios === null && options.layouts === null) writeFileSync(join(RESULTS, 'latest.md'), markdown);
  process.stdout.write(markdown);
}

await main();
