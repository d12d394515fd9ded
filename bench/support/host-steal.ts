// How much CPU the hypervisor gave to other guests while a suite ran. On a shared virtual
// machine this "steal" time makes every process slower at once; figures measured with much of
// it are not comparable with those of another run.
import { readFileSync } from 'node:fs';

/** The machine's aggregate CPU times from /proc/stat, in clock ticks. */
export interface CpuTimes {
  /** All time: user, nice, system, idle, iowait, irq, softirq and steal. */
  total: number;
  steal: number;
}

/** Parses the aggregate `cpu` line of /proc/stat; throws when the text has none. */
export function parseCpuTimes(stat: string): CpuTimes {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  const fields = line?.trim().split(/\s+/).slice(1, 9).map(Number) ?? [];
  if (fields.length < 8 || !fields.every(Number.isFinite)) {
    throw new Error(`no aggregate cpu line in /proc/stat: ${stat.slice(0, 80)}`);
  }
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
}

/** The current CPU times, or undefined where /proc/stat cannot be read (not Linux). */
export function readCpuTimes(): CpuTimes | undefined {
  try {
    return parseCpuTimes(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/** The share (0..1) of CPU time stolen between two readings, or undefined without both. */
export function stealShare(
  before: CpuTimes | undefined,
  after: CpuTimes | undefined,
): number | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  return (after.steal - before.steal) / (after.total - before.total);
}
