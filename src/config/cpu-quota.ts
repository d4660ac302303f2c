import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The CPU time a Linux cgroup allows the process (a container's `--cpus`, a systemd `CPUQuota=`),
 * in CPUs. Node 20's `availableParallelism()` counts only the CPUs the process may run on, so in a
 * container limited to 1 CPU on a 16-core host it says 16: 16 acceptor threads would then share
 * one CPU's time, each thread's requests waiting out the others' time slices, and the whole process
 * stalled until the next period each time the quota runs out. Go (1.25) and the JVM size their
 * threads by this quota too.
 */

/** Reads a file's text; null when it does not exist or cannot be read. */
export type ReadText = (path: string) => string | null;

interface CpuHierarchy {
  /** Where the hierarchy is mounted, and the cgroup path that mount shows at its top. */
  readonly mountPoint: string;
  readonly mountRoot: string;
  readonly version: 1 | 2;
}

/**
 * The mount of the hierarchy that holds the cpu controller, from /proc/self/mountinfo: a v1 `cgroup`
 * mount with the `cpu` option, else the v2 `cgroup2` one.
 */
function cpuHierarchy(mountinfo: string): CpuHierarchy | null {
  let unified: CpuHierarchy | null = null;
  for (const line of mountinfo.split('\n')) {
    // "id parent major:minor root mountPoint options [optional fields] - fstype source superOptions"
    const [mountFields, fsFields] = line.split(' - ');
    if (fsFields === undefined) continue;
    const mount = mountFields!.split(' ');
    const [fsType, , superOptions = ''] = fsFields.split(' ');
    const hierarchy = { mountRoot: unescapeMountPath(mount[3] ?? ''), mountPoint: unescapeMountPath(mount[4] ?? '') };
    if (fsType === 'cgroup' && superOptions.split(',').includes('cpu')) return { ...hierarchy, version: 1 };
    if (fsType === 'cgroup2') unified ??= { ...hierarchy, version: 2 };
  }
  return unified;
}

/** mountinfo writes a space, tab, newline or backslash in a path as a 3-digit octal escape. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The process's cgroup in that hierarchy, from /proc/self/cgroup ("id:controllers:path" lines). */
function cgroupPath(procCgroup: string, version: 1 | 2): string | null {
  for (const line of procCgroup.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const matches = version === 2 ? line.slice(0, first) === '0' && controllers === '' : controllers.split(',').includes('cpu');
    if (matches) return line.slice(second + 1);
  }
  return null;
}

/** The quota one cgroup directory sets, in CPUs; null for none (or unreadable). */
function limitIn(read: ReadText, dir: string, version: 1 | 2): number | null {
  let quota: number;
  let period: number;
  if (version === 2) {
    // "max 100000" (no limit) or "150000 100000": quota and period in µs.
    const fields = (read(`${dir}/cpu.max`) ?? '').trim().split(/\s+/);
    quota = Number(fields[0]);
    period = Number(fields[1]);
  } else {
    // A quota of -1 is no limit.
    quota = Number((read(`${dir}/cpu.cfs_quota_us`) ?? '').trim());
    period = Number((read(`${dir}/cpu.cfs_period_us`) ?? '').trim());
  }
  return Number.isFinite(quota) && quota > 0 && Number.isFinite(period) && period > 0 ? quota / period : null;
}

/**
 * The smallest CPU quota on the way from the process's cgroup up to its hierarchy's top (a parent's
 * limit binds its children too), in CPUs; null when none is set or the files are not there (not
 * Linux, no cgroup mounted).
 */
export function cgroupCpuQuota(read: ReadText): number | null {
  const hierarchy = cpuHierarchy(read('/proc/self/mountinfo') ?? '');
  if (hierarchy === null) return null;
  const path = cgroupPath(read('/proc/self/cgroup') ?? '', hierarchy.version);
  if (path === null) return null;
  // In a container the mount's top is the container's own cgroup: the path below it is what is left.
  const { mountRoot, mountPoint } = hierarchy;
  const below = mountRoot !== '/' && (path === mountRoot || path.startsWith(`${mountRoot}/`)) ? path.slice(mountRoot.length) : path;
  const parts = below.split('/').filter((part) => part !== '');
  // A cgroup outside the namespace's view (`/../other`): no directory here is the process's own.
  if (parts.includes('..')) return null;
  let smallest: number | null = null;
  for (let depth = parts.length; depth >= 0; depth--) {
    const dir = [mountPoint, ...parts.slice(0, depth)].join('/');
    const limit = limitIn(read, dir, hierarchy.version);
    if (limit !== null && (smallest === null || limit < smallest)) smallest = limit;
  }
  return smallest;
}

/** The most acceptor threads a gateway runs (GATEWAY_THREADS's ceiling): the default stops there too. */
export const MAX_THREADS = 256;

/** Acceptor threads by default: one per CPU the process may use, as its cgroup's quota rounds up. */
export function defaultThreads(available: number, quota: number | null): number {
  const usable = quota === null ? available : Math.min(available, Math.ceil(quota));
  return Math.max(1, Math.min(MAX_THREADS, usable));
}

/**
 * What to warn about when `GATEWAY_THREADS` asks for more threads than the CPUs the process may use
 * (`usable`): null when it does not.
 */
export function oversubscribed(threads: number, usable: number): string | null {
  return threads > usable
    ? `${threads} acceptor threads for ${usable} CPU${usable === 1 ? '' : 's'} of time: each thread's requests wait out the others' time slices (milliseconds of latency); set GATEWAY_THREADS to ${usable} or unset it`
    : null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** This machine's CPUs for the gateway, read once at start-up: those it may run on, its cgroup's quota, and the threads they make. */
export const MACHINE_CPUS: { readonly cpus: number; readonly quota: number | null; readonly threads: number } = (() => {
  const cpus = availableParallelism();
  const quota = cgroupCpuQuota(readText);
  return { cpus, quota, threads: defaultThreads(cpus, quota) };
})();
