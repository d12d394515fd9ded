// iperf3 (Debian's, 3.x) as the throughput load: a one-off server next to the private app
// and a client that runs for a fixed time and prints its JSON report.
import { execFile } from 'node:child_process';
import { SpawnedProcess } from '../../test/e2e/support/spawned-process.js';

/** What one iperf3 run measured, from the receiving end. */
export interface IperfResult {
  /** Bits per second the server received, over the measured interval. */
  bitsPerSecond: number;
  bytes: number;
  seconds: number;
  /** TCP retransmissions the sender counted (0 on loopback unless something is wrong). */
  retransmits: number;
  /** Number of parallel streams of the run. */
  streams: number;
}

/**
 * Reads `iperf3 -J` client output: the receiver's sum (bytes that reached the iperf3 server,
 * so a proxy's buffers do not count). Throws with iperf3's own message on a failed run.
 */
export function parseIperfJson(text: string): IperfResult {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch {
    throw new Error(`iperf3 printed no JSON report: ${text.slice(0, 200)}`);
  }
  const r = report as {
    error?: string;
    end?: {
      streams?: unknown[];
      sum_sent?: { retransmits?: number };
      sum_received?: { bits_per_second?: number; bytes?: number; seconds?: number };
    };
  };
  if (typeof r.error === 'string') throw new Error(`iperf3 failed: ${r.error}`);
  const received = r.end?.sum_received;
  if (typeof received?.bits_per_second !== 'number' || typeof received.bytes !== 'number') {
    throw new Error('iperf3 report has no end.sum_received');
  }
  return {
    bitsPerSecond: received.bits_per_second,
    bytes: received.bytes,
    seconds: received.seconds ?? 0,
    retransmits: r.end?.sum_sent?.retransmits ?? 0,
    streams: r.end?.streams?.length ?? 0,
  };
}

/** Starts `iperf3 -s -1` on 127.0.0.1:`port` and waits until it listens. */
export async function startIperfServer(port: number): Promise<SpawnedProcess> {
  const server = new SpawnedProcess('iperf3-server', 'iperf3', [
    '-s',
    '-1',
    '--forceflush',
    '-B',
    '127.0.0.1',
    '-p',
    String(port),
  ]);
  await server.waitFor((l) => l.text.startsWith('Server listening'), {
    timeoutMs: 5_000,
    what: 'iperf3 listening',
  });
  return server;
}

/** Options of one iperf3 client run. */
export interface IperfClientOptions {
  /** Measured seconds (`-t`). */
  seconds: number;
  /** Parallel streams (`-P`); default 1. */
  streams?: number;
  /** Seconds at the start left out of the result (`-O`, TCP slow start); default 0. */
  omit?: number;
  signal: AbortSignal;
}

/** Runs `iperf3 -c 127.0.0.1 -p port` to completion, bounded in time, and parses its report. */
export function runIperfClient(port: number, options: IperfClientOptions): Promise<IperfResult> {
  const { seconds, streams = 1, omit = 0 } = options;
  const args = ['-c', '127.0.0.1', '-p', String(port), '-t', String(seconds), '-J', '-i', '0'];
  args.push('-P', String(streams), '-O', String(omit), '--connect-timeout', '5000');
  const timeout = (seconds + omit + 30) * 1000;
  return new Promise((resolve, reject) => {
    execFile(
      'iperf3',
      args,
      { timeout, signal: options.signal, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => {
        // iperf3 exits non-zero on failure but still prints a JSON report with `error`.
        try {
          resolve(parseIperfJson(stdout));
        } catch (parseErr) {
          // Without any output, the process error (timeout, not found) says more.
          reject(stdout.trim() === '' && err !== null ? err : (parseErr as Error));
        }
      },
    );
  });
}
