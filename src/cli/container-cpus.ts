import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a file as text, or undefined when it cannot be read. */
export type ReadText = (path: string) => string | undefined;

const readText: ReadText = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * The CPUs this process may use: the cores it can run on, capped by its cgroup's CPU quota
 * (a container's CPU limit) rounded up. Node's availableParallelism() sees the node's cores
 * only, so in a pod limited to 2 CPUs on a 32-core node it says 32; an edge starting one worker
 * per core would then start 32 workers and run out of memory.
 */
export function containerCpus(
  options: { readonly cores?: number; readonly read?: ReadText } = {},
): number {
  const cores = options.cores ?? availableParallelism();
  const quota = cgroupQuota(options.read ?? readText);
  return quota === undefined ? cores : Math.max(1, Math.min(cores, Math.ceil(quota)));
}

/** The CPU quota in CPUs from cgroup v2 (`cpu.max`) or v1 (`cfs_quota_us`), if one is set. */
function cgroupQuota(read: ReadText): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 !== undefined && v2.length === 2) return ratio(v2[0], v2[1]);
  return ratio(
    read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim(),
    read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim(),
  );
}

// "max" (v2) or -1 (v1) mean no quota.
function ratio(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return q / p;
}
