/**
 * native-bench balance (`npm run bench:balance`, issue 4): one tenant sends half of all requests,
 * 1,000 others the rest, to a 4-node cluster. ringgate with adaptive routing against the same
 * build with plain consistent hashing (GATEWAY_ROUTING_MODE=plain), in interleaved rounds, pinned
 * as the main bench. Reports each node's share of requests (from ringgate_node_requests_total)
 * and its standard deviation, RPS, proxy CPU per request, and the p99 adaptive routing adds over
 * plain: saturated, and at half of plain's max rate.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ringgateEnv, writeRinggateConfig } from './lib/candidates.js';
import { measure, type Measured } from './lib/measure.js';
import { intFromEnv, PINNED } from './lib/options.js';
import { freePort, startGroup, waitForHttp, type Started } from './lib/proc.js';
import { checkScenario, scenarioNamed, wrkScript } from './lib/scenarios.js';
import { countsBetween, nodeRequestCounts, shareStdevPoints, sharesPercent } from './lib/shares.js';
import { median } from './lib/stats.js';
import { scratchDir, startUpstream } from './lib/upstream.js';
import { runWrk } from './lib/wrk.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const RESULTS = join(HERE, 'results');
const NODES = 4;
const PACE_MS = 10;
const MODES = ['plain', 'adaptive'] as const;
type Mode = (typeof MODES)[number];

interface Run extends Measured {
  readonly nodeCounts: number[];
  /** The hot tenant's smoothed score and shard factor after the run (/tenants). */
  readonly hot: { score: number | null; k: number } | null;
}

interface Gateway {
  readonly port: number;
  readonly adminPort: number;
  readonly proc: Started;
}

const progress = (line: string): boolean => process.stderr.write(`${line}\n`);

async function startRinggate(mode: Mode, dir: string, upstreamPorts: readonly number[], threads: number): Promise<Gateway> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const configPath = writeRinggateConfig(join(dir, `ringgate-${mode}.json`), upstreamPorts);
  const env = ringgateEnv(configPath, port, { GATEWAY_THREADS: String(threads), GATEWAY_ADMIN_PORT: String(adminPort), GATEWAY_ROUTING_MODE: mode });
  const proc = startGroup(`ringgate-${mode}`, process.execPath, [join(ROOT, 'dist/main.js')], PINNED.proxy, env);
  await waitForHttp(`http://127.0.0.1:${port}/`, proc, { 'x-tenant-id': 'bench-ready' });
  return { port, adminPort, proc };
}

async function nodeCounts(gateway: Gateway): Promise<Map<string, number>> {
  return nodeRequestCounts(await (await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`)).text());
}

async function hotTenant(gateway: Gateway): Promise<Run['hot']> {
  const reply = (await (await fetch(`http://127.0.0.1:${gateway.adminPort}/tenants?top=1000`)).json()) as {
    tenants: { tenant: string; score: number | null; k: number }[];
  };
  const hot = reply.tenants.find((t) => t.tenant === 'hot');
  return hot ? { score: hot.score, k: hot.k } : null;
}

/** One measured wrk run, with the node counts it added. */
async function run(gateway: Gateway, scriptPath: string, connections: number, seconds: number, warmupSeconds: number): Promise<Run> {
  const load = () => runWrk({ url: `http://127.0.0.1:${gateway.port}`, scriptPath, connections, seconds, cpus: PINNED.load });
  if (warmupSeconds > 0) await runWrk({ url: `http://127.0.0.1:${gateway.port}`, scriptPath, connections, seconds: warmupSeconds, cpus: PINNED.load });
  const before = await nodeCounts(gateway);
  const measured = await measure(gateway.proc, load);
  const counts = countsBetween(before, await nodeCounts(gateway));
  return { ...measured, nodeCounts: counts, hot: await hotTenant(gateway) };
}

const fixed = (v: number | null | undefined, digits: number): string => (v === null || v === undefined ? '–' : v.toFixed(digits));

function table(title: string, runs: ReadonlyMap<Mode, Run[]>): string {
  const p99 = (mode: Mode) => median(runs.get(mode)!.map((r) => r.p99Ms));
  const lines = [
    `### ${title}`,
    '',
    '| routing | RPS (median) | p99 ms (each round) | p99 ms (median) | node shares % (each node, round by round) | share stdev, points (median) | proxy CPU µs/req | hot tenant score / k |',
    '|---|---:|---:|---:|---|---:|---:|---:|',
  ];
  for (const mode of MODES) {
    const rs = runs.get(mode)!;
    const shares = rs.map((r) => sharesPercent(r.nodeCounts).map((s) => s.toFixed(1)).join(' / ')).join('; ');
    const last = rs.at(-1)!.hot;
    lines.push(
      `| ${mode} | ${median(rs.map((r) => r.rps)).toFixed(0)} | ${rs.map((r) => r.p99Ms.toFixed(2)).join(', ')} | ${p99(mode).toFixed(2)} | ${shares} | ` +
        `${median(rs.map((r) => shareStdevPoints(r.nodeCounts))).toFixed(1)} | ${fixed(median(rs.map((r) => r.cpuUsPerRequest ?? Number.NaN)), 1)} | ` +
        `${fixed(last?.score, 2)} / ${last?.k ?? '–'} |`,
    );
  }
  lines.push('', `p99 added by adaptive routing over plain: ${(p99('adaptive') - p99('plain')).toFixed(2)} ms (medians).`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const seconds = intFromEnv(process.env, 'BENCH_SECONDS', 5, 1);
  const warmupSeconds = intFromEnv(process.env, 'BENCH_WARMUP_SECONDS', 2, 0);
  const rounds = intFromEnv(process.env, 'BENCH_ROUNDS', 3, 1);
  const connections = intFromEnv(process.env, 'BENCH_CONNECTIONS', 64, 1);
  const threads = intFromEnv(process.env, 'BENCH_THREADS', 1, 1);
  execFileSync(join(HERE, 'install-tools.sh'), { stdio: 'inherit' });
  const dir = scratchDir('ringgate-balance-');
  const scenario = scenarioNamed('hot-tenant');
  const saturated = new Map<Mode, Run[]>(MODES.map((m) => [m, []]));
  const paced = new Map<Mode, Run[]>(MODES.map((m) => [m, []]));
  const gateways = new Map<Mode, Gateway>();
  let upstream: Started | null = null;
  let pacedRate = 0;
  try {
    const upstreamPorts = await Promise.all(Array.from({ length: NODES }, freePort));
    upstream = await startUpstream(join(dir, 'upstream'), upstreamPorts, PINNED.upstream);
    for (const mode of MODES) {
      const gateway = await startRinggate(mode, dir, upstreamPorts, threads);
      gateways.set(mode, gateway);
      await checkScenario(scenario, gateway.port, `ringgate-${mode}`);
    }
    const scriptPath = join(dir, 'hot-tenant.lua');
    writeFileSync(scriptPath, wrkScript(scenario));
    for (let round = 1; round <= rounds; round++) {
      for (const mode of MODES) {
        const result = await run(gateways.get(mode)!, scriptPath, connections, seconds, warmupSeconds);
        saturated.get(mode)!.push(result);
        progress(`saturated round ${round} ${mode}: ${result.rps.toFixed(0)} rps, p99 ${result.p99Ms.toFixed(2)} ms, shares ${sharesPercent(result.nodeCounts).map((s) => s.toFixed(1)).join('/')}`);
      }
    }
    // The same rate for both: half of what plain routing sustains.
    pacedRate = median(saturated.get('plain')!.map((r) => r.rps)) / 2;
    const pacedPath = join(dir, 'hot-tenant-paced.lua');
    writeFileSync(pacedPath, wrkScript(scenario, PACE_MS));
    const pacedConnections = Math.max(1, Math.round((pacedRate * PACE_MS) / 1000));
    for (let round = 1; round <= rounds; round++) {
      for (const mode of MODES) {
        const result = await run(gateways.get(mode)!, pacedPath, pacedConnections, seconds, warmupSeconds);
        paced.get(mode)!.push(result);
        progress(`paced round ${round} ${mode} at ~${pacedRate.toFixed(0)} rps: ${result.rps.toFixed(0)} rps, p99 ${result.p99Ms.toFixed(2)} ms`);
      }
    }
  } finally {
    for (const gateway of gateways.values()) await gateway.proc.stop();
    await upstream?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const date = new Date().toISOString();
  const markdown = [
    `# native-bench balance, ${date.slice(0, 10)}`,
    '',
    `One tenant sends half the requests, 1,000 others the rest (wrk, the \`${scenario.name}\` scenario), through ringgate (${threads} thread${threads > 1 ? 's' : ''}) ` +
      `to ${NODES} nodes (ports of one nginx upstream). Pinned: ringgate on CPU 0, upstream and wrk on CPU 1. ` +
      `${rounds} interleaved rounds of ${warmupSeconds} s warm-up + ${seconds} s measured. Node shares from \`ringgate_node_requests_total\`; ` +
      `the hot tenant's score and k from \`/tenants\` after the last round.`,
    '',
    table(`Saturated (wrk -t1 -c${connections})`, saturated),
    '',
    table(`Half load (~${pacedRate.toFixed(0)} rps, half of plain's max; each connection paced at random 0–${2 * PACE_MS} ms gaps)`, paced),
    '',
  ].join('\n');
  mkdirSync(RESULTS, { recursive: true });
  const stamp = date.replace(/[:.]/g, '-');
  writeFileSync(join(RESULTS, `balance-${stamp}.json`), JSON.stringify({ date, rounds, seconds, connections, threads, saturated: Object.fromEntries(saturated), paced: Object.fromEntries(paced) }, null, 2));
  writeFileSync(join(RESULTS, 'balance-latest.md'), markdown);
  process.stdout.write(markdown);
}

await main();
