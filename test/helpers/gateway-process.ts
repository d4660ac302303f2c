import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDir } from './scratch.js';

/** The built entry point: integration tests run the real binary, as a user does. */
export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface GatewayProcess {
  readonly port: number;
  readonly adminPort: number;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly logs: string[];
  /** SIGTERM and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  metrics(): Promise<string>;
}

export function writeConfig(config: unknown): string {
  const path = join(scratchDir('ringgate-test-'), 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** How the gateway's command is started: by default as it is; a wrapper may run it inside something (a cgroup). */
export type Launch = (command: string, args: readonly string[]) => [string, string[]];

/**
 * Starts `node dist/main.js` on ephemeral ports and resolves once it logs that it listens. A gateway
 * that neither listens nor exits within `startTimeoutMs` is killed, so no caller waits forever.
 * `spawned` gets the process at once, for a test of what happens while it starts.
 */
export function startGateway(
  config: unknown | null,
  env: Record<string, string> = {},
  startTimeoutMs = 20_000,
  launch: Launch = (command, args) => [command, [...args]],
  spawned: (child: ChildProcess) => void = () => {},
): Promise<GatewayProcess> {
  const fullEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    GATEWAY_PORT: '0',
    GATEWAY_ADMIN_PORT: '0',
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_THREADS: '2',
    ...env,
  };
  if (config !== null) fullEnv.GATEWAY_CONFIG = writeConfig(config);
  const [command, args] = launch(process.execPath, [MAIN]);
  const child = spawn(command, args, { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  spawned(child);
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const startDeadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not listen within ${startTimeoutMs} ms:\n${logs.join('\n')}`));
    }, startTimeoutMs);
    let buffered = '';
    let stderr = '';
    // Decoded across reads: a read may end inside a character (an access line's `…`), whose halves
    // decoded apart would each become U+FFFD.
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr += d));
    child.stdout!.on('data', (d: string) => {
      buffered += d;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        const entry = JSON.parse(line) as { msg?: string; port?: number; adminPort?: number };
        if (entry.msg === 'ringgate listening') {
          clearTimeout(startDeadline);
          const { port, adminPort } = entry as { port: number; adminPort: number };
          resolve({
            port,
            adminPort,
            pid: child.pid!,
            child,
            logs,
            stop: async (signal = 'SIGTERM') => {
              if (child.exitCode === null) child.kill(signal);
              return exited;
            },
            metrics: async () => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text(),
          });
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(startDeadline);
      reject(new Error(`gateway exited (${code}) before listening:\n${stderr}\n${logs.join('\n')}`));
    });
  });
}

/** Sum of a metric's samples whose label text contains every given fragment. */
export function metricValue(text: string, name: string, ...fragments: string[]): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line[name.length] === '_') continue;
    if (fragments.every((f) => line.includes(f))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Resident memory of a process in bytes (from /proc). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}
