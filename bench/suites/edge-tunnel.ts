// Postern end to end (edge + tunnel + connector, each its own process) against OpenSSH
// `ssh -R` (aes128-gcm) and against direct loopback, in one run: iperf3 throughput with one
// and with 100 streams, new TCP connections per second, and 64-byte round-trip latency.
// Every process is started here on 127.0.0.1 and stopped at the end.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Children } from '../support/children.js';
import { comparisonRows, pathLabels } from '../support/comparison.js';
import type { ThreeWay } from '../support/comparison.js';
import { runIperfClient, startIperfServer } from '../support/iperf3.js';
import type { IperfResult } from '../support/iperf3.js';
import { freePort, waitForEcho } from '../support/ports.js';
import { startPostern } from '../support/postern-stack.js';
import { startSshReverse } from '../support/ssh-reverse.js';
import { best, summarizeLatency } from '../support/stats.js';
import { connectionRate, pingPong } from '../support/tcp-load.js';
import type { Result, Suite, SuiteContext } from '../suite.js';

const run = promisify(execFile);
type Path = keyof ThreeWay;
const paths: readonly Path[] = ['direct', 'ssh', 'postern'];

/** Sizes of a full run and of `--quick`. */
const plans = {
  full: { rounds: 2, iperfSeconds: 5, omit: 1, rateMs: 4_000, pings: 3_000 },
  quick: { rounds: 1, iperfSeconds: 2, omit: 1, rateMs: 2_000, pings: 1_000 },
} as const;
type Plan = (typeof plans)[keyof typeof plans];
const manyStreams = 100;
const rateLoops = 8;

/** Where each path's iperf3 and echo traffic enters. */
type Entrances = Record<Path, { iperf: number; echo: number }>;

/** Every sample taken, per path, kept for the notes. */
interface Samples {
  single: Record<Path, number[]>;
  many: Record<Path, number[]>;
  rate: Record<Path, number[]>;
  rateErrors: Record<Path, string[]>;
  latency: Record<Path, number[]>;
  retransmits: number;
}

const perPath = <T>(make: () => T): Record<Path, T> => ({
  direct: make(),
  ssh: make(),
  postern: make(),
});

async function requireTools(): Promise<{ iperf: string }> {
  const missing: string[] = [];
  let iperf = '';
  try {
    iperf = (await run('iperf3', ['--version'], { timeout: 5_000 })).stdout.split('\n')[0] ?? '';
  } catch {
    missing.push('iperf3');
  }
  for (const [tool, args] of [
    ['/usr/sbin/sshd', ['-V']],
    ['ssh', ['-V']],
    ['ssh-keygen', ['-?']],
  ] as const) {
    // These print usage or version on stderr with a non-zero status; only ENOENT means missing.
    await run(tool, args, { timeout: 5_000 }).catch((err: { code?: unknown }) => {
      if (err.code === 'ENOENT') missing.push(tool);
    });
  }
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(', ')}: run scripts/setup-test-host.sh (installs iperf3 and OpenSSH)`,
    );
  }
  return { iperf };
}

async function startEchoApp(children: Children): Promise<number> {
  const script = fileURLToPath(new URL('../support/echo-server.js', import.meta.url));
  const app = children.spawn('echo-app', process.execPath, [script, '0']);
  const line = await app.waitFor((l) => typeof l.json?.port === 'number', {
    timeoutMs: 10_000,
    what: 'the echo app port',
  });
  return line.json?.port as number;
}

/** Starts the apps and both tunnels; resolves when every path answers an echo. */
async function setUp(
  children: Children,
  dir: string,
  ctx: SuiteContext,
): Promise<{ entrances: Entrances; sshVersion: string }> {
  const iperfPort = await freePort();
  const echoPort = await startEchoApp(children);
  ctx.log('starting sshd and ssh -R');
  const ssh = await startSshReverse(children, {
    dir: join(dir, 'ssh'),
    appPorts: [iperfPort, echoPort],
  });
  ctx.log('starting postern edge and connector');
  const postern = await startPostern(children, {
    dir: join(dir, 'postern'),
    cpuProfDir: process.env.POSTERN_BENCH_CPU_PROF,
  });
  // The echo service goes last: once it answers, the connector has the configuration that
  // allows both targets (configuration pushes arrive in order).
  const posternIperf = await postern.tcpService('iperf3', iperfPort);
  const posternEcho = await postern.tcpService('echo', echoPort);
  const entrances: Entrances = {
    direct: { iperf: iperfPort, echo: echoPort },
    ssh: { iperf: ssh.ports.get(iperfPort) ?? 0, echo: ssh.ports.get(echoPort) ?? 0 },
    postern: { iperf: posternIperf, echo: posternEcho },
  };
  for (const path of paths)
    await waitForEcho(entrances[path].echo, { timeoutMs: 10_000, what: pathLabels[path] });
  return { entrances, sshVersion: ssh.version };
}

/** One iperf3 run against a fresh one-off server behind the app port. */
async function iperf(
  entrances: Entrances,
  path: Path,
  o: { plan: Plan; streams: number; signal: AbortSignal },
): Promise<IperfResult> {
  const server = await startIperfServer(entrances.direct.iperf);
  try {
    return await runIperfClient(entrances[path].iperf, {
      seconds: o.plan.iperfSeconds,
      omit: o.plan.omit,
      streams: o.streams,
      signal: o.signal,
    });
  } finally {
    // A one-off server exits after its test; one that did not is stopped so the port frees.
    if (!(await server.stop('SIGTERM', 2_000))) await server.stop('SIGKILL', 2_000);
  }
}

/** Interleaved rounds, so drift in machine load touches every path alike. */
async function measure(entrances: Entrances, plan: Plan, ctx: SuiteContext): Promise<Samples> {
  const s: Samples = {
    single: perPath(() => []),
    many: perPath(() => []),
    rate: perPath(() => []),
    rateErrors: perPath(() => []),
    latency: perPath(() => []),
    retransmits: 0,
  };
  for (let round = 1; round <= plan.rounds; round++) {
    for (const [key, streams] of [
      ['single', 1],
      ['many', manyStreams],
    ] as const) {
      for (const path of paths) {
        ctx.signal.throwIfAborted();
        const r = await iperf(entrances, path, { plan, streams, signal: ctx.signal });
        s[key][path].push(r.bitsPerSecond / 1e9);
        s.retransmits += r.retransmits;
        ctx.log(
          `round ${round} ${streams} stream(s) ${pathLabels[path]}: ${(r.bitsPerSecond / 1e9).toFixed(2)} Gbit/s`,
        );
      }
    }
    for (const path of paths) {
      const r = await connectionRate(entrances[path].echo, {
        concurrency: rateLoops,
        durationMs: plan.rateMs,
        signal: ctx.signal,
      });
      s.rate[path].push(r.perSecond);
      if (r.errors > 0) s.rateErrors[path].push(`${r.errors} failed (${r.firstError ?? '?'})`);
      ctx.log(
        `round ${round} connections ${pathLabels[path]}: ${r.perSecond.toFixed(0)}/s, ${r.errors} errors`,
      );
    }
    for (const path of paths) {
      s.latency[path].push(
        ...(await pingPong(entrances[path].echo, { rounds: plan.pings, signal: ctx.signal })),
      );
    }
  }
  return s;
}

function bestOf(samples: Record<Path, number[]>): ThreeWay {
  return { direct: best(samples.direct), ssh: best(samples.ssh), postern: best(samples.postern) };
}

function results(s: Samples): Result[] {
  const lat = {
    direct: summarizeLatency(s.latency.direct),
    ssh: summarizeLatency(s.latency.ssh),
    postern: summarizeLatency(s.latency.postern),
  };
  const pick = (f: 'p50' | 'p99'): ThreeWay => ({
    direct: lat.direct[f],
    ssh: lat.ssh[f],
    postern: lat.postern[f],
  });
  return [
    ...comparisonRows(bestOf(s.single), {
      metric: 'iperf3, 1 stream',
      unit: 'Gbit/s',
      target: 1.0,
    }),
    ...comparisonRows(bestOf(s.many), {
      metric: `iperf3, ${manyStreams} streams`,
      unit: 'Gbit/s',
      target: 1.0,
    }),
    ...comparisonRows(bestOf(s.rate), {
      metric: 'new TCP connections',
      unit: 'conn/s',
      target: 2.0,
    }),
    ...comparisonRows(pick('p50'), { metric: '64 B round trip p50', unit: 'µs' }),
    ...comparisonRows(pick('p99'), { metric: '64 B round trip p99', unit: 'µs' }),
  ];
}

function writeNotes(
  ctx: SuiteContext,
  s: Samples,
  o: { plan: Plan; iperf: string; sshVersion: string },
): void {
  const { plan } = o;
  const runs = (key: 'single' | 'many' | 'rate', digits: number): string =>
    paths
      .map((p) => `${pathLabels[p]} ${s[key][p].map((v) => v.toFixed(digits)).join(' / ')}`)
      .join('; ');
  ctx.note(
    `Paths: iperf3 client or load generator → (direct: the app itself | ssh -R: sshd's forwarded port → ssh client | Postern: TCP virtual server of \`postern edge\` → mTLS tunnel → \`postern connector\`) → app; all on 127.0.0.1, each process separate; edge and connector log at level warn.`,
  );
  ctx.note(
    `Peer: ${o.sshVersion}, \`ssh -N -R\` with \`-c aes128-gcm@openssh.com\` to an sshd started by the bench. Postern's tunnel is TLS 1.3 with the edge's and connector's default cipher settings.`,
  );
  ctx.note(
    `Throughput: ${o.iperf}, ${plan.iperfSeconds} s per run after ${plan.omit} s left out (slow start), receiver-side figure; best of ${plan.rounds} interleaved round(s). Runs (Gbit/s): 1 stream: ${runs('single', 2)}. ${manyStreams} streams: ${runs('many', 2)}. Sender retransmits, all runs: ${s.retransmits}.`,
  );
  const errors = paths.flatMap((p) => s.rateErrors[p].map((e) => `${pathLabels[p]}: ${e}`));
  ctx.note(
    `New connections: ${rateLoops} concurrent loops for ${plan.rateMs / 1000} s, each connect → send 1 byte → read the echo → close → wait for the close; echo app in its own node process; best of ${plan.rounds}. Runs (conn/s): ${runs('rate', 0)}.${errors.length > 0 ? ` Failed connections: ${errors.join('; ')}.` : ''}`,
  );
  ctx.note(
    `Latency: ${plan.pings} round trips of 64 bytes per round on one connection (TCP_NODELAY on the client), after 200 unmeasured; p50/p99 over all rounds. Lower is better, so a latency ratio below 1 favours the first path.`,
  );
  ctx.note('The "also" column of each Postern row is its ratio to direct loopback.');
}

async function runSuite(ctx: SuiteContext): Promise<Result[]> {
  const plan = ctx.quick ? plans.quick : plans.full;
  const { iperf } = await requireTools();
  const dir = await mkdtemp(join(tmpdir(), 'postern-bench-'));
  const children = new Children();
  const onAbort = (): void => void children.stopAll(500);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const { entrances, sshVersion } = await setUp(children, dir, ctx);
    const samples = await measure(entrances, plan, ctx);
    writeNotes(ctx, samples, { plan, iperf, sshVersion });
    return results(samples);
  } catch (err) {
    ctx.log(`failed; last output of the processes:\n${children.tails()}`);
    throw err;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    const survivors = await children.stopAll();
    await rm(dir, { recursive: true, force: true });
    if (survivors.length > 0) ctx.log(`processes that did not exit: ${survivors.join(', ')}`);
  }
}

/** Postern edge + tunnel + connector against `ssh -R` and direct loopback. */
const suite: Suite = {
  name: 'edge-tunnel',
  title: 'Postern edge + tunnel + connector vs ssh -R and direct loopback',
  timeoutMs: 6 * 60_000,
  run: runSuite,
};
export default suite;
