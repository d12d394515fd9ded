// wrk (Debian's 4.x, C, epoll) as the HTTP keep-alive load: N persistent connections for a
// fixed time, one request at a time each (no pipelining), over http or https. A Lua `done`
// hook prints the figures as one JSON line, so nothing depends on wrk's human-readable table.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Marks the line the Lua hook prints. */
const marker = 'WRK_REPORT ';

/** The Lua script wrk runs: only a `done` hook, so requests stay wrk's own fast path. */
export const wrkReportScript = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${marker}{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"cpu_s":%.3f}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, os.clock()))
end
`;

/** What one wrk run measured. */
export interface WrkReport {
  requests: number;
  /** Completed requests per second over the run. */
  perSecond: number;
  seconds: number;
  /** Socket errors and non-2xx/3xx answers, added up. */
  errors: number;
  /** Error counts by kind, e.g. `status 12`; empty when there were none. */
  errorKinds: string;
  /** Latency of completed requests, in µs. */
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** wrk's own CPU share over the run (all its threads; 1 = one core): near 1 means wrk was the limit. */
  cpu: number;
}

interface RawReport {
  requests: number;
  duration_us: number;
  errors: Record<string, number>;
  latency_us: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** CPU seconds of the wrk process (Lua's os.clock), including its start. */
  cpu_s: number;
}

/** Reads the report line of {@link wrkReportScript} from wrk's output; throws when it is missing. */
export function parseWrkReport(stdout: string): WrkReport {
  const line = stdout.split('\n').find((l) => l.startsWith(marker));
  if (line === undefined) throw new Error(`wrk printed no report: ${stdout.slice(0, 300)}`);
  const raw = JSON.parse(line.slice(marker.length)) as RawReport;
  if (!(raw.duration_us > 0)) throw new Error(`wrk reported a run of ${raw.duration_us} µs`);
  const kinds = Object.entries(raw.errors).filter(([, n]) => n > 0);
  const seconds = raw.duration_us / 1e6;
  return {
    requests: raw.requests,
    perSecond: raw.requests / seconds,
    seconds,
    errors: kinds.reduce((sum, [, n]) => sum + n, 0),
    errorKinds: kinds.map(([kind, n]) => `${kind} ${n}`).join(', '),
    latency: { ...raw.latency_us },
    cpu: raw.cpu_s / seconds,
  };
}

/** Writes {@link wrkReportScript} into `dir`; returns its path for {@link runWrk}. */
export async function writeWrkScript(dir: string): Promise<string> {
  const path = join(dir, 'wrk-report.lua');
  await writeFile(path, wrkReportScript);
  return path;
}

/** Options of {@link runWrk}. */
export interface WrkOptions {
  /** Path written by {@link writeWrkScript}. */
  script: string;
  /** Concurrent keep-alive connections. */
  connections: number;
  seconds: number;
  /** wrk threads; default 1 (on 2 cores a second thread takes CPU from the proxy measured). */
  threads?: number;
  signal: AbortSignal;
}

/** Runs wrk against `url` (http or https; wrk does not verify certificates) and parses its report. */
export async function runWrk(url: string, options: WrkOptions): Promise<WrkReport> {
  const { script, connections, seconds, threads = 1, signal } = options;
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`];
  const { stdout } = await run('wrk', [...args, '--timeout', '5s', '-s', script, url], {
    signal,
    timeout: (seconds + 30) * 1000,
  });
  return parseWrkReport(stdout);
}

/** wrk's version line; throws naming the Debian package when wrk is missing. */
export async function requireWrk(): Promise<string> {
  try {
    // wrk -v prints its version and usage, then exits with status 1.
    const out = await run('wrk', ['-v'], { timeout: 5_000 }).catch(
      (err: { code?: unknown; stdout?: string }) => {
        if (err.code === 'ENOENT') throw err;
        return { stdout: err.stdout ?? '' };
      },
    );
    return out.stdout.split('\n')[0]?.replace(/ Copyright.*$/, '') ?? 'wrk';
  } catch {
    throw new Error('missing wrk: apt-get install wrk (the HTTP load generator of this suite)');
  }
}
