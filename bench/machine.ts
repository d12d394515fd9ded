import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem, type } from 'node:os';

/** The machine a run happened on, for the report header. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1-minute load average when the run started: other work on the machine skews results. */
  load1: number;
}

/** Reads CPU count and model (from /proc/cpuinfo when present), memory, OS and Node version. */
export function machineInfo(): MachineInfo {
  let cpuModel = 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: the model stays unknown, the rest still describes the host.
  }
  return {
    cpus: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    load1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** One-line description, e.g. `2 × Intel Xeon · 7.8 GiB RAM · Linux 6.1 · node v20.20.2 · load 0.12`. */
export function describeMachine(m: MachineInfo): string {
  return `${m.cpus} × ${m.cpuModel} · ${m.memoryGiB} GiB RAM · ${m.os} · node ${m.node} · load ${m.load1}`;
}
