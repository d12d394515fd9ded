// CPU time of processes and their descendants, from Linux /proc: which process of a path
// spends the CPU while it carries traffic.
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/PID/stat this module uses. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** User plus system CPU time, in clock ticks. */
  ticks: number;
}

/** Clock ticks per second of /proc times (USER_HZ, 100 on Linux for x86 and arm). */
const ticksPerSecond = 100;

/**
 * Parses one /proc/PID/stat line. The command name (field 2) may hold spaces and
 * parentheses, so fields are counted from its last ')'. Throws on a malformed line.
 */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  // After the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
  const rest = text.slice(close + 2).split(' ');
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (close < 0 || ![pid, ppid, utime, stime].every(Number.isFinite)) {
    throw new Error(`not a /proc/PID/stat line: ${text.slice(0, 80)}`);
  }
  return { pid, ppid, ticks: utime + stime };
}

/** Sum of `ticks` over `root` and every descendant of it in `stats`. */
export function treeTicks(stats: readonly ProcStat[], root: number): number {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let total = 0;
  const seen = new Set<number>();
  const stack = stats.filter((s) => s.pid === root);
  while (stack.length > 0) {
    const s = stack.pop() as ProcStat;
    if (seen.has(s.pid)) continue;
    seen.add(s.pid);
    total += s.ticks;
    stack.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

function readAll(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      stats.push(parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // The process ended between the listing and the read: it no longer counts.
    }
  }
  return stats;
}

/**
 * CPU seconds used so far by each of `roots` with its descendants (sshd does its work in
 * forked children), or undefined where /proc is not available.
 */
export function cpuSeconds(roots: readonly number[]): number[] | undefined {
  let stats: ProcStat[];
  try {
    stats = readAll();
  } catch {
    return undefined;
  }
  return roots.map((root) => treeTicks(stats, root) / ticksPerSecond);
}

/** A process whose CPU share is measured over a piece of work. */
export interface CpuWatch {
  name: string;
  pid: number;
}

/**
 * Runs `work` and measures each watched process's CPU over it: shares of one core (1 = one
 * core busy all the time), in the order of `watched`; empty where /proc is not available.
 */
export async function measureCpu<T>(
  watched: readonly CpuWatch[],
  work: () => Promise<T>,
): Promise<{ value: T; shares: number[] }> {
  const pids = watched.map((w) => w.pid);
  const before = cpuSeconds(pids);
  const started = performance.now();
  const value = await work();
  const seconds = (performance.now() - started) / 1000;
  const after = cpuSeconds(pids);
  if (!before || !after || seconds <= 0) return { value, shares: [] };
  return { value, shares: pids.map((_, i) => ((after[i] ?? 0) - (before[i] ?? 0)) / seconds) };
}
