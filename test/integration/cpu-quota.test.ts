import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { startBackend } from '../helpers/backends.js';
import { startGateway, type Launch } from '../helpers/gateway-process.js';
import { send } from '../helpers/http.js';

/**
 * A real cgroup with a CPU quota of one CPU, made for this test at the top of the cpu hierarchy (v1:
 * /sys/fs/cgroup/cpu; v2: /sys/fs/cgroup with the cpu controller on for its children). Creating one
 * takes root: elsewhere (and on a machine with a single CPU, where a quota of one changes nothing)
 * the test is skipped, and cpu-quota.test.ts covers the reading on file trees.
 */
function quotaCgroup(): { dir: string; procs: string } | null {
  if (availableParallelism() < 2) return null;
  const name = `ringgate-test-${process.pid}`;
  let made: string | null = null;
  try {
    if (existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')) {
      made = `/sys/fs/cgroup/cpu/${name}`;
      mkdirSync(made);
      writeFileSync(`${made}/cpu.cfs_period_us`, '100000');
      writeFileSync(`${made}/cpu.cfs_quota_us`, '100000');
      return { dir: made, procs: `${made}/cgroup.procs` };
    }
    if (readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').split(/\s+/).includes('cpu')) {
      made = `/sys/fs/cgroup/${name}`;
      mkdirSync(made);
      writeFileSync(`${made}/cpu.max`, '100000 100000');
      return { dir: made, procs: `${made}/cgroup.procs` };
    }
  } catch {
    // Not root, or no cgroup file system here: a directory made before the failure goes again.
    if (made !== null && existsSync(made)) rmdirSync(made);
  }
  return null;
}

const cgroup = quotaCgroup();

afterAll(() => {
  // Empty once the gateway has exited: then the directory can go.
  if (cgroup !== null) rmdirSync(cgroup.dir);
});

/** A log line of the gateway, as JSON. */
type Entry = Record<string, unknown>;

const isThreadWarning = (entry: Entry): boolean => entry.level === 40 && String(entry.msg).includes('acceptor threads for');

/**
 * Starts the gateway inside the cgroup with `threads` as GATEWAY_THREADS (empty: unset, so the
 * default decides), checks that it answers, hands its log to `check`, and stops it.
 */
async function inQuota(threads: string, check: (entries: Entry[]) => void): Promise<void> {
  const backend = await startBackend('q0');
  // The shell moves itself into the cgroup, then becomes the gateway: it starts inside the quota.
  const inCgroup: Launch = (command, args) => ['sh', ['-c', `echo $$ > ${cgroup!.procs} && exec "$0" "$@"`, command, ...args]];
  const config = { routes: [{ prefix: '/', cluster: 'c' }], clusters: { c: { nodes: [{ id: 'q0', url: backend.url }] } } };
  const gateway = await startGateway(config, { GATEWAY_THREADS: threads }, 20_000, inCgroup);
  try {
    check(gateway.logs.map((line) => JSON.parse(line) as Entry));
    expect((await send(gateway.port, '/x', { tenant: 'acme' })).status).toBe(200);
  } finally {
    expect(await gateway.stop()).toBe(0);
    await backend.close();
  }
}

describe.skipIf(cgroup === null)('a CPU quota (a real cgroup)', () => {
  it('sizes the default acceptor threads by it: one thread for one CPU of time on a bigger machine', async () => {
    await inQuota('', (entries) => {
      expect(entries.find((entry) => entry.msg === 'ringgate listening')).toMatchObject({ threads: 1, cpus: availableParallelism(), cpuQuota: 1 });
      expect(entries.filter(isThreadWarning)).toEqual([]);
    });
  });

  it('warns when GATEWAY_THREADS asks for more threads than that, and runs them', async () => {
    await inQuota('2', (entries) => {
      expect(entries.find(isThreadWarning)).toMatchObject({ threads: 2, cpuQuota: 1, msg: expect.stringContaining('set GATEWAY_THREADS to 1') });
      expect(entries.find((entry) => entry.msg === 'ringgate listening')).toMatchObject({ threads: 2 });
    });
  });
});
