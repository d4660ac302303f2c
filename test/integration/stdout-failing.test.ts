import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../helpers/backends.js';
import { MAIN, writeConfig } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';

let backend: Backend | undefined;
afterAll(async () => {
  await backend?.close();
});

describe('stdout that takes no writes (/dev/full: a full disk)', () => {
  it('loses log lines, not the gateway: it starts, serves with its access log on, and stops cleanly', async () => {
    backend = await startBackend('n0');
    const [port, adminPort] = [await freePort(), await freePort()];
    const env = {
      ...(process.env as Record<string, string>),
      GATEWAY_CONFIG: writeConfig({ routes: [{ prefix: '/', cluster: 'c', requireTenant: false }], clusters: { c: { nodes: [{ id: 'n0', url: backend.url }] } } }),
      GATEWAY_PORT: String(port),
      GATEWAY_ADMIN_PORT: String(adminPort),
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_THREADS: '2',
      GATEWAY_ACCESS_LOG: 'on',
      // A thread held at exit by its last lines would keep the process past the test's time.
      GATEWAY_DRAIN_MS: '60000',
    };
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      // Its "listening" line is lost with the rest: it listens once the port answers.
      await expect.poll(async () => (await send(port, '/x').catch(() => ({ status: 0 }))).status, { timeout: 20_000, interval: 100 }).toBe(200);
      const statuses = [];
      for (let i = 0; i < 300; i++) statuses.push((await send(port, `/x/${i}`)).status);
      expect(statuses.every((status) => status === 200)).toBe(true);
      expect(child.exitCode, stderr).toBe(null);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    expect(await exited, stderr).toBe(0);
  }, 40_000);
});
