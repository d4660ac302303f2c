/**
 * native-bench tenant churn (`npm run bench:churn`, issue 4): wrk sends a fresh random tenant id
 * with every request, as fast as ringgate (2 threads) takes them, for BENCH_ROUNDS runs of
 * BENCH_SECONDS. After each run it reads the gateway's RSS and /tenants (live tenants, evictions,
 * requests that found no slot), so a table that outgrows GATEWAY_MAX_TENANTS or memory that keeps
 * climbing shows up run after run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ringgateEnv, writeRinggateConfig } from './lib/candidates.js';
import { intFromEnv } from './lib/options.js';
import { freePort, groupRssBytes, startGroup, waitForHttp, type Started } from './lib/proc.js';
import { scratchDir, startUpstream } from './lib/upstream.js';
import { runWrk } from './lib/wrk.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const RESULTS = join(HERE, 'results');
const THREADS = 2;
/** Settles between runs, so RSS is read after the garbage of the run could be collected. */
const SETTLE_MS = 3_000;

/** A new random tenant id per request: 16 hex digits from Lua's PRNG, seeded per wrk thread. */
const RANDOM_TENANTS = `math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/", { ["X-Tenant-ID"] = string.format("t%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff)) })
end
`;

interface Reading {
  readonly after: string;
  readonly requests: number;
  readonly rps: number;
  readonly errors: number;
  readonly rssMiB: number;
  readonly live: number;
  readonly evictions: number;
  readonly untracked: number;
}

async function read(after: string, adminPort: number, proc: Started, load: { requests: number; rps: number; errors: number }): Promise<Reading> {
  const tenants = (await (await fetch(`http://127.0.0.1:${adminPort}/tenants?top=1`)).json()) as { live: number; evictions: number; untracked: number };
  return { after, ...load, rssMiB: groupRssBytes(proc.pgid) / 2 ** 20, live: tenants.live, evictions: tenants.evictions, untracked: tenants.untracked };
}

async function main(): Promise<void> {
  const seconds = intFromEnv(process.env, 'BENCH_SECONDS', 8, 1);
  const rounds = intFromEnv(process.env, 'BENCH_ROUNDS', 4, 1);
  const connections = intFromEnv(process.env, 'BENCH_CONNECTIONS', 64, 1);
  execFileSync(join(HERE, 'install-tools.sh'), { stdio: 'inherit' });
  const dir = scratchDir('ringgate-churn-');
  const readings: Reading[] = [];
  let upstream: Started | null = null;
  let gateway: Started | null = null;
  try {
    const upstreamPorts = await Promise.all([0, 1, 2].map(freePort));
    upstream = await startUpstream(join(dir, 'upstream'), upstreamPorts, null);
    const [port, adminPort] = [await freePort(), await freePort()];
    const configPath = writeRinggateConfig(join(dir, 'ringgate.json'), upstreamPorts);
    const env = ringgateEnv(configPath, port, { GATEWAY_THREADS: String(THREADS), GATEWAY_ADMIN_PORT: String(adminPort) });
    gateway = startGroup('ringgate', process.execPath, [join(HERE, '..', 'dist/main.js')], null, env);
    await waitForHttp(`http://127.0.0.1:${port}/`, gateway, { 'x-tenant-id': 'bench-ready' });
    const scriptPath = join(dir, 'random-tenants.lua');
    writeFileSync(scriptPath, RANDOM_TENANTS);
    await sleep(SETTLE_MS);
    readings.push(await read('start (idle)', adminPort, gateway, { requests: 0, rps: 0, errors: 0 }));
    for (let round = 1; round <= rounds; round++) {
      const load = await runWrk({ url: `http://127.0.0.1:${port}`, scriptPath, connections, seconds, cpus: null });
      await sleep(SETTLE_MS);
      readings.push(await read(`run ${round}`, adminPort, gateway, load));
      process.stderr.write(`run ${round}: ${load.rps.toFixed(0)} rps, RSS ${readings.at(-1)!.rssMiB.toFixed(0)} MiB, live ${readings.at(-1)!.live}\n`);
    }
  } finally {
    await gateway?.stop();
    await upstream?.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const date = new Date().toISOString();
  const lines = [
    `# native-bench tenant churn, ${date.slice(0, 10)}`,
    '',
    `wrk -t1 -c${connections}, a new random tenant id per request, ${rounds} runs of ${seconds} s, unpinned; ringgate with ${THREADS} threads and the default ` +
      `GATEWAY_MAX_TENANTS (10,000). Readings ${SETTLE_MS / 1000} s after each run. Every request is a tenant the table has not seen.`,
    '',
    '| after | requests (new tenants) | RPS | errors | RSS MiB | live tenants | evictions (total) | untracked (total) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...readings.map(
      (r) => `| ${r.after} | ${r.requests} | ${r.rps.toFixed(0)} | ${r.errors} | ${r.rssMiB.toFixed(0)} | ${r.live} | ${r.evictions} | ${r.untracked} |`,
    ),
    '',
  ];
  const markdown = lines.join('\n');
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'churn-latest.md'), markdown);
  process.stdout.write(markdown);
}

await main();
