import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import type { Redis } from 'ioredis';
import { freePort } from './ports.js';

/** The redis-server test/install-services.sh installs (Debian's package). */
const REDIS_SERVER = 'redis-server';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Stops it (SIGKILL: a crash, as an outage test wants) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence), resolving once it answers. */
  restart(): Promise<void>;
}

/** Resolves once something accepts on the port, rejects on the child's exit or after `deadlineMs`. */
function whenListening(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const exited = (): void => reject(new Error(`redis-server exited (${child.exitCode}) before listening on ${port}`));
    child.once('exit', exited);
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        child.off('exit', exited);
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (child.exitCode !== null) return;
        if (Date.now() > deadline) return reject(new Error(`redis-server did not listen on ${port} within ${deadlineMs} ms`));
        setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

export interface RedisOptions {
  /** PEM files: the server then speaks TLS only. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
  /** requirepass: clients must AUTH with it. */
  readonly password?: string;
}

function launch(port: number, options: RedisOptions): ChildProcess {
  // No persistence, no protected mode, loopback only: a throwaway server for one test file.
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
  const { tls, password } = options;
  if (tls === undefined) args.push('--port', String(port));
  else args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no');
  if (password !== undefined) args.push('--requirepass', password);
  return spawn(REDIS_SERVER, args, { stdio: 'ignore' });
}

function urlOf(port: number, options: RedisOptions): string {
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return `${options.tls === undefined ? 'redis' : 'rediss'}://${auth}127.0.0.1:${port}`;
}

/** Starts a redis-server on an ephemeral loopback port; the caller kills it in afterAll. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  if (spawnSync(REDIS_SERVER, ['--version']).status !== 0) {
    throw new Error('redis-server is not installed: run `npm test` (it installs Debian\'s redis-server), or `apt-get install redis-server`');
  }
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let child = launch(port, options);
    try {
      await whenListening(port, child, 10_000);
    } catch (err) {
      child.kill('SIGKILL');
      if (attempt < 3) continue;
      throw err;
    }
    const kill = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    };
    return {
      port,
      url: urlOf(port, options),
      get pid() {
        return child.pid!;
      },
      kill,
      async restart() {
        await kill();
        child = launch(port, options);
        await whenListening(port, child, 10_000);
      },
    };
  }
}

/**
 * Scripts (EVAL, EVALSHA) of connections named `name` that Redis holds back while a
 * `CLIENT PAUSE … WRITE` lasts: a gateway's call that reached Redis and waits for its verdict.
 * Read-only commands such as CLIENT LIST still run during that pause, so a test can wait for
 * this state rather than for a fixed time.
 */
export async function heldScripts(redis: Redis, name: string): Promise<number> {
  const clients = String(await redis.client('LIST')).split('\n');
  return clients.filter((line) => line.includes(` name=${name} `) && /\bflags=\w*b/.test(line) && /\bcmd=eval(?:sha)?\b/.test(line)).length;
}

/** Redis's count of script calls so far (EVAL the first time on a connection, then EVALSHA), from every client. */
export async function scriptCalls(redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats');
  return [...stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}
