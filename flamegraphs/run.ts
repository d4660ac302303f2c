/**
 * `npm run flame`: ringgate under 0x, its one acceptor on the main thread (GATEWAY_INLINE_ACCEPTOR:
 * 0x reads V8's log of the main isolate only), while wrk sends a bounded load through it to an
 * nginx upstream. Writes flamegraphs/<stamp>.html and prints the top frames.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { featureEnv, ringgateEnv, writeRinggateConfig } from '../native-bench/lib/candidates.js';
import { intFromEnv } from '../native-bench/lib/options.js';
import { freePort, startGroup, waitForHttp } from '../native-bench/lib/proc.js';
import { checkScenario, scenarioNamed, wrkScript } from '../native-bench/lib/scenarios.js';
import { scratchDir, startUpstream } from '../native-bench/lib/upstream.js';
import { runWrk } from '../native-bench/lib/wrk.js';
import { topFrames, type V8LogJson } from './top-frames.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const ZERO_X = createRequire(import.meta.url).resolve('0x/cmd.js');

async function main(): Promise<void> {
  const seconds = intFromEnv(process.env, 'FLAME_SECONDS', 10, 1);
  const connections = intFromEnv(process.env, 'FLAME_CONNECTIONS', 64, 1);
  const scenario = scenarioNamed(process.env.FLAME_SCENARIO || 'get-1k', 'FLAME_SCENARIO');
  execFileSync(join(ROOT, 'native-bench/install-tools.sh'), { stdio: 'inherit' });

  const dir = scratchDir('ringgate-flame-');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outputDir = join(HERE, `${stamp}.0x`);
  const html = join(HERE, `${stamp}.html`);
  const upstreamPorts = [await freePort(), await freePort(), await freePort()];
  const port = await freePort();
  const upstream = await startUpstream(join(dir, 'upstream'), upstreamPorts, null);
  try {
    // Profiled as the bench measures it: every feature configured, none triggered.
    const features = { everyFeature: true };
    const configPath = writeRinggateConfig(join(dir, 'ringgate.json'), upstreamPorts, features);
    const env = ringgateEnv(configPath, port, { GATEWAY_INLINE_ACCEPTOR: '1', ...featureEnv(features) });
    const args = [ZERO_X, '--quiet', '--output-dir', outputDir, '--output-html', html, '--', process.execPath, join(ROOT, 'dist/main.js')];
    const profiled = startGroup('ringgate under 0x', process.execPath, args, null, env);
    await waitForHttp(`http://127.0.0.1:${port}/_ringgate/healthz`, profiled);
    await checkScenario(scenario, port, 'ringgate');
    const scriptPath = join(dir, `${scenario.name}.lua`);
    writeFileSync(scriptPath, wrkScript(scenario));
    const load = await runWrk({ url: `http://127.0.0.1:${port}`, scriptPath, connections, seconds, cpus: null });
    process.stderr.write(`load: ${load.rps.toFixed(0)} rps over ${load.seconds.toFixed(1)} s, errors ${load.errors} (under the profiler)\n`);
    // SIGINT to ringgate only: it drains and exits, then 0x turns the log into the flamegraph.
    const ringgatePid = Number(execFileSync('pgrep', ['-P', String(profiled.pgid), '-f', 'dist/main.js'], { encoding: 'utf8' }).trim().split('\n')[0]);
    process.kill(ringgatePid, 'SIGINT');
    await new Promise<void>((resolve) => profiled.child.once('exit', () => resolve()));
  } finally {
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const logJson = readdirSync(outputDir).find((f) => f.endsWith('.log.json'));
  if (logJson === undefined) throw new Error(`0x left no profile in ${outputDir}`);
  const profile = JSON.parse(readFileSync(join(outputDir, logJson), 'utf8')) as V8LogJson;
  process.stdout.write(`flamegraph: ${html}\n\n${topFrames(profile)}\n`);
}

await main();
