/**
 * native-bench soak (`npm run soak`, issue 15): ringgate with every feature configured, in front of
 * two nginx nodes and one slow node, under a mix of 1 KiB reads, 64 KiB reads and 4 KiB uploads from
 * 1,000 tenants at half its calibrated max rate, for SOAK_MINUTES (30) one-minute wrk runs. Records
 * RPS, p50/p99, errors, RSS and CPU per request every minute; fails when errors appear or RSS climbs
 * after warm-up. Loopback only, every process stopped at the end; not part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeCheckout } from './lib/baseline.js';
import { featureEnv, ringgateEnv, writeRinggateConfig } from './lib/candidates.js';
import { coreVersions, describeMachine } from './lib/machine.js';
import { measure } from './lib/measure.js';
import { intFromEnv, PINNED } from './lib/options.js';
import { freePort, groupRssBytes, startGroup, waitForHttp, type Started } from './lib/proc.js';
import { checkScenario, scenarioNamed, wrkScript } from './lib/scenarios.js';
import { describeBehaviour, slowNodeBehaviour, startSlowNode, type SlowNode } from './lib/slow-node.js';
import { soakMarkdown, type SoakSetup } from './lib/soak-report.js';
import { judge, type Minute, type SoakOutcome } from './lib/soak-verdict.js';
import { scratchDir, startUpstream, upstreamRequests } from './lib/upstream.js';
import { runWrk } from './lib/wrk.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '..');
const RESULTS = join(HERE, 'results');
const FULL_RUN_MINUTES = 30;
const MINUTE_SECONDS = 60;
/** Saturated, as the main bench measures max RPS: warm-up (JIT, pools), then the measured run. */
const CALIBRATION = { warmupSeconds: 5, seconds: 10, connections: 64 } as const;
/** As run.ts's paced runs: each connection waits 0…2× this between requests; connections = rate × pace. */
const PACE_MS = 10;
const FEATURES = { everyFeature: true } as const;
const MiB = 2 ** 20;

const progress = (line: string): boolean => process.stderr.write(`${line}\n`);

interface Cluster {
  readonly port: number;
  readonly fastPort: number;
  readonly slow: SlowNode;
  readonly gateway: Started;
}

/** Nodes and ringgate, each pushed onto `started` as soon as it runs, so `finally` stops whatever did start. */
async function startCluster(dir: string, behaviour: ReturnType<typeof slowNodeBehaviour>, started: Started[]): Promise<Cluster> {
  const [fast0, fast1, slowPort, port] = [await freePort(), await freePort(), await freePort(), await freePort()];
  started.push(await startUpstream(join(dir, 'upstream'), [fast0, fast1], PINNED.upstream));
  const slow = await startSlowNode(slowPort, behaviour, PINNED.upstream);
  started.push(slow.proc);
  const config = writeRinggateConfig(join(dir, 'ringgate.json'), [fast0, fast1, slowPort], FEATURES);
  // Access log off, as in the bench: a line per request through the pipe startGroup reads would
  // cost ringgate and this process CPU for nothing the soak looks at (proc.ts keeps only its tail).
  const env = ringgateEnv(config, port, { GATEWAY_THREADS: '1', ...featureEnv(FEATURES) });
  const gateway = startGroup('ringgate', process.execPath, [join(ROOT, 'dist/main.js')], PINNED.proxy, env);
  started.push(gateway);
  await waitForHttp(`http://127.0.0.1:${port}/`, gateway, { 'x-tenant-id': 'bench-ready' });
  return { port, fastPort: fast0, slow, gateway };
}

/** One minute of paced load, with ringgate's CPU and RSS and each kind of node's request count around it. */
async function soakMinute(minute: number, cluster: Cluster, scriptPath: string, connections: number): Promise<Minute> {
  const { port, fastPort, slow, gateway } = cluster;
  const [slowBefore, fastBefore] = [await slow.stats(), await upstreamRequests(fastPort)];
  const result = await measure(gateway, () =>
    runWrk({ url: `http://127.0.0.1:${port}`, scriptPath, connections, seconds: MINUTE_SECONDS, cpus: PINNED.load }),
  );
  const rssMiB = groupRssBytes(gateway.pgid) / MiB;
  const [slowAfter, fastAfter] = [await slow.stats(), await upstreamRequests(fastPort)];
  // Less the stub_status reading's own request.
  return { ...result, minute, rssMiB, slowNodeRequests: slowAfter.requests - slowBefore.requests, fastNodeRequests: fastAfter - fastBefore - 1 };
}

async function main(): Promise<void> {
  const planned = intFromEnv(process.env, 'SOAK_MINUTES', FULL_RUN_MINUTES, 1);
  // Slow, not failing: a failing node's 503s would reach the clients as errors, which the verdict refuses.
  const behaviour = slowNodeBehaviour(process.env, 0);
  execFileSync(join(HERE, 'install-tools.sh'), { stdio: 'inherit' });
  const dir = scratchDir('ringgate-soak-');
  const started: Started[] = [];
  const minutes: Minute[] = [];
  let stoppedBy: string | null = null;
  let setup: SoakSetup;
  let rssAfterCalibrationMiB: number;
  let calibrationErrors: number;
  try {
    const cluster = await startCluster(dir, behaviour, started);
    const mix = scenarioNamed('mix');
    await checkScenario(mix, cluster.port, 'ringgate');
    const [saturatedPath, pacedPath] = [join(dir, 'mix.lua'), join(dir, 'mix-paced.lua')];
    writeFileSync(saturatedPath, wrkScript(mix));
    writeFileSync(pacedPath, wrkScript(mix, PACE_MS));

    const saturated = (seconds: number) => () =>
      runWrk({ url: `http://127.0.0.1:${cluster.port}`, scriptPath: saturatedPath, connections: CALIBRATION.connections, seconds, cpus: PINNED.load });
    await saturated(CALIBRATION.warmupSeconds)();
    const calibration = await measure(cluster.gateway, saturated(CALIBRATION.seconds));
    rssAfterCalibrationMiB = groupRssBytes(cluster.gateway.pgid) / MiB;
    calibrationErrors = calibration.errors;
    const targetRps = calibration.rps / 2;
    const connections = Math.max(1, Math.round((targetRps * PACE_MS) / 1000));
    progress(`calibration: ${calibration.rps.toFixed(0)} rps saturated; soak at ~${targetRps.toFixed(0)} rps, ${connections} paced connections, ${planned} min`);
    setup = {
      date: new Date().toISOString(),
      machine: describeMachine(),
      versions: coreVersions().join(', '),
      build: `${describeCheckout(ROOT)}, 1 thread`,
      mix: mix.description,
      slowNode: describeBehaviour(behaviour),
      calibration: { ...calibration, ...CALIBRATION },
      targetRps,
      connections,
      paceMs: PACE_MS,
    };

    for (let minute = 1; minute <= planned; minute++) {
      try {
        minutes.push(await soakMinute(minute, cluster, pacedPath, connections));
      } catch (err) {
        // A 30-minute run's minutes so far are worth a report: record why it stopped and write it.
        stoppedBy = `minute ${minute}: ${(err as Error).message.split('\n')[0]}`;
        break;
      }
      const m = minutes.at(-1)!;
      progress(
        `minute ${minute}/${planned}: ${m.rps.toFixed(0)} rps, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, ` +
          `${m.errors} errors, RSS ${m.rssMiB.toFixed(1)} MiB, ${m.cpuUsPerRequest?.toFixed(1) ?? '–'} µs/req`,
      );
      const { child } = cluster.gateway;
      if (child.exitCode !== null || child.signalCode !== null) {
        stoppedBy = `ringgate exited (${child.exitCode ?? child.signalCode}) in minute ${minute}`;
        progress(`ringgate's last output:\n${cluster.gateway.output()}`);
        break;
      }
    }
  } finally {
    for (const proc of started.reverse()) await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  const outcome: SoakOutcome = { planned, rssAfterCalibrationMiB, calibrationErrors, minutes, stoppedBy };
  const verdict = judge(outcome);
  const markdown = soakMarkdown(setup, outcome, verdict);
  mkdirSync(RESULTS, { recursive: true });
  const stamp = setup.date.replace(/[:.]/g, '-');
  writeFileSync(join(RESULTS, `soak-${stamp}.json`), JSON.stringify({ setup, behaviour, outcome, verdict }, null, 2));
  writeFileSync(join(RESULTS, `soak-${stamp}.md`), markdown);
  // soak-latest.md is the committed full run: a shortened one must not replace it.
  if (planned === FULL_RUN_MINUTES) writeFileSync(join(RESULTS, 'soak-latest.md'), markdown);
  process.stdout.write(markdown);
  if (!verdict.passed) {
    progress(`soak FAILED:\n${verdict.problems.map((p) => `- ${p}`).join('\n')}`);
    process.exitCode = 1;
  }
}

await main();
