import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota, defaultThreads, oversubscribed, type ReadText } from '../../src/config/cpu-quota.js';

/** A file tree of /proc and /sys/fs/cgroup as text. */
function files(tree: Record<string, string>): ReadText {
  return (path) => tree[path] ?? null;
}

const V2_MOUNT = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';
const V1_MOUNTS =
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n' +
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n' +
  '33 31 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n' +
  '34 31 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n';

describe('the CPU quota of the process cgroup', () => {
  it('reads cgroup v2 cpu.max inside a container (its cgroup at the top of the mount)', () => {
    const read = files({ '/proc/self/mountinfo': V2_MOUNT, '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '150000 100000\n' });
    expect(cgroupCpuQuota(read)).toBe(1.5);
  });

  it('takes no limit from "max", and none when the cpu controller files are absent', () => {
    expect(cgroupCpuQuota(files({ '/proc/self/mountinfo': V2_MOUNT, '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeNull();
    expect(cgroupCpuQuota(files({ '/proc/self/mountinfo': V2_MOUNT, '/proc/self/cgroup': '0::/\n' }))).toBeNull();
  });

  it("takes the smallest limit on the way up: a parent's quota binds the process too", () => {
    const read = files({
      '/proc/self/mountinfo': V2_MOUNT,
      '/proc/self/cgroup': '0::/system.slice/gateway.service\n',
      '/sys/fs/cgroup/system.slice/gateway.service/cpu.max': 'max 100000',
      '/sys/fs/cgroup/system.slice/cpu.max': '200000 100000',
      '/sys/fs/cgroup/cpu.max': 'max 100000',
    });
    expect(cgroupCpuQuota(read)).toBe(2);
  });

  it('reads cgroup v1 cfs quota and period from the cpu hierarchy, a quota of -1 being none', () => {
    const cgroup = '12:cpuset:/\n4:cpu,cpuacct:/docker/abc\n0::/\n';
    const limited = files({
      '/proc/self/mountinfo': V1_MOUNTS,
      '/proc/self/cgroup': cgroup,
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '50000\n',
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(limited)).toBe(0.5);
    const unlimited = files({
      '/proc/self/mountinfo': V1_MOUNTS,
      '/proc/self/cgroup': cgroup,
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '-1\n',
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(unlimited)).toBeNull();
  });

  it("maps the process's cgroup below a mount whose top is the container's own cgroup", () => {
    const mount = '40 23 0:33 /docker/abc /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n';
    const read = files({
      '/proc/self/mountinfo': mount,
      '/proc/self/cgroup': '3:cpu:/docker/abc\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    });
    expect(cgroupCpuQuota(read)).toBe(3);
  });

  it("reads no sibling's limit for a cgroup outside the namespace's view", () => {
    const read = files({
      '/proc/self/mountinfo': V2_MOUNT,
      '/proc/self/cgroup': '0::/../other\n',
      '/sys/fs/cgroup/other/cpu.max': '100000 100000',
    });
    expect(cgroupCpuQuota(read)).toBeNull();
  });

  it('finds nothing where there is no cgroup (not Linux) or the files are malformed', () => {
    expect(cgroupCpuQuota(files({}))).toBeNull();
    expect(cgroupCpuQuota(files({ '/proc/self/mountinfo': V2_MOUNT, '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'lots\n' }))).toBeNull();
    expect(cgroupCpuQuota(files({ '/proc/self/mountinfo': 'garbage', '/proc/self/cgroup': 'garbage' }))).toBeNull();
  });
});

describe('default acceptor threads', () => {
  it('is one per usable CPU: the quota rounded up, at least 1, at most the CPUs it may run on and 256', () => {
    expect(defaultThreads(16, null)).toBe(16);
    expect(defaultThreads(16, 1)).toBe(1);
    expect(defaultThreads(16, 1.5)).toBe(2);
    expect(defaultThreads(16, 0.25)).toBe(1);
    expect(defaultThreads(2, 8)).toBe(2);
    // A machine with more CPUs than GATEWAY_THREADS allows still starts, on the most it allows.
    expect(defaultThreads(384, null)).toBe(256);
  });

  it('warns only when asked for more threads than CPUs of time, saying what to set', () => {
    expect(oversubscribed(2, 2)).toBeNull();
    expect(oversubscribed(1, 4)).toBeNull();
    expect(oversubscribed(4, 1)).toMatch(/^4 acceptor threads for 1 CPU of time: .* set GATEWAY_THREADS to 1 or unset it$/);
    expect(oversubscribed(8, 2)).toContain('for 2 CPUs of time');
  });
});
