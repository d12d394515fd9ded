// Postern end to end (edge + tunnel + connector, each its own process) against OpenSSH
// `ssh -R` (aes128-gcm) and against direct loopback, in one run: iperf3 throughput with one
// and with 100 streams, new TCP connections per second, and 64-byte round-trip latency.
// Every process is started here on 127.0.0.1 and stopped at the end.
import { loadavg } from 'node:os';
import { withChildren } from '../support/children.js';
import { comparisonRows, pathLabels } from '../support/comparison.js';
import type { ThreeWay } from '../support/comparison.js';
import { cpuSeconds } from '../support/cpu-usage.js';
import { runIperfClient, startIperfServer } from '../support/iperf3.js';
import { best, summarizeLatency } from '../support/stats.js';
import { connectionRate, pingPong } from '../support/tcp-load.js';
import { paths, startThreePaths } from '../support/three-paths.js';
import type { Entrance, Path, ThreePaths } from '../support/three-paths.js';
import type { Result, Suite, SuiteContext } from '../suite.js';

/** Sizes of a full run and of `--quick`. */
const plans = {
  full: { rounds: 3, iperfSeconds: 4, omit: 1, rateMs: 2_500, pings: 2_000 },
  quick: { rounds: 1, iperfSeconds: 2, omit: 1, rateMs: 1_500, pings: 1_000 },
} as const;
type Plan = (typeof plans)[keyof typeof plans];
const manyStreams = 100;
/** Connection loops: many to find the sustained rate (the target), few to show per-connection cost. */
const rateLoops = { capacity: 64, few: 8 } as const;

type PerPath<T> = Record<Path, T>;
const perPath = <T>(make: () => T): PerPath<T> => ({
  direct: make(),
  ssh: make(),
  postern: make(),
});

/** Every sample taken, kept for the notes. */
interface Samples {
  single: PerPath<number[]>;
  many: PerPath<number[]>;
  capacity: PerPath<number[]>;
  few: PerPath<number[]>;
  rateErrors: string[];
  latency: PerPath<number[]>;
  retransmits: number;
  /** CPU share (of one core) per watched process in the last iperf3 run, by case and path. */
  cpu: Record<'single' | 'many', PerPath<string>>;
}

/** CPU of the path's processes over `work`: "name NN%" of one core each, and their sum (1 = one core). */
async function withCpu<T>(
  entrance: Entrance,
  work: () => Promise<T>,
): Promise<{ value: T; cpu: string; total: number }> {
  const pids = entrance.watched.map((w) => w.pid);
  const before = cpuSeconds(pids);
  const started = performance.now();
  const value = await work();
  const seconds = (performance.now() - started) / 1000;
  const after = cpuSeconds(pids);
  if (!before || !after) return { value, cpu: '', total: 0 };
  const shares = entrance.watched.map((_, i) => ((after[i] ?? 0) - (before[i] ?? 0)) / seconds);
  const cpu = entrance.watched.map((w, i) => `${w.name} ${((shares[i] ?? 0) * 100).toFixed(0)}%`);
  return { value, cpu: cpu.join(', '), total: shares.reduce((a, b) => a + b, 0) };
}

/** One iperf3 run through `path` against a fresh one-off server on the app port. */
async function iperf(
  setup: ThreePaths,
  path: Path,
  o: { plan: Plan; streams: number; signal: AbortSignal },
) {
  const server = await startIperfServer(setup.iperfPort);
  try {
    const entrance = setup.entrances[path];
    const options = {
      seconds: o.plan.iperfSeconds,
      omit: o.plan.omit,
      streams: o.streams,
      signal: o.signal,
    };
    return await withCpu(entrance, () => runIperfClient(entrance.iperf, options));
  } finally {
    // A one-off server exits after its test; one that did not is stopped so the port frees.
    if (!(await server.stop('SIGTERM', 2_000))) await server.stop('SIGKILL', 2_000);
  }
}

async function throughputRound(
  setup: ThreePaths,
  s: Samples,
  o: { plan: Plan; ctx: SuiteContext },
): Promise<void> {
  for (const [key, streams] of [
    ['single', 1],
    ['many', manyStreams],
  ] as const) {
    for (const path of paths) {
      o.ctx.signal.throwIfAborted();
      const { value, cpu, total } = await iperf(setup, path, {
        plan: o.plan,
        streams,
        signal: o.ctx.signal,
      });
      const gbit = value.bitsPerSecond / 1e9;
      s[key][path].push(gbit);
      // CPU per Gbit/s compares how much work each path spends on the same bytes.
      s.cpu[key][path] =
        total > 0 ? `${cpu} (${((total * 100) / gbit).toFixed(0)}% per Gbit/s)` : cpu;
      s.retransmits += value.retransmits;
      o.ctx.log(`${streams} stream(s) ${pathLabels[path]}: ${gbit.toFixed(2)} Gbit/s ${cpu}`);
    }
  }
}

async function connectionRound(
  setup: ThreePaths,
  s: Samples,
  o: { plan: Plan; ctx: SuiteContext },
): Promise<void> {
  for (const key of ['capacity', 'few'] as const) {
    for (const path of paths) {
      const port = setup.entrances[path].echo;
      const r = await connectionRate(port, {
        concurrency: rateLoops[key],
        durationMs: o.plan.rateMs,
        signal: o.ctx.signal,
      });
      s[key][path].push(r.perSecond);
      if (r.errors > 0)
        s.rateErrors.push(
          `${pathLabels[path]}, ${rateLoops[key]} loops: ${r.errors} (${r.firstError ?? '?'})`,
        );
      o.ctx.log(
        `${rateLoops[key]} loops ${pathLabels[path]}: ${r.perSecond.toFixed(0)} conn/s, ${r.errors} failed`,
      );
    }
  }
}

/** Interleaved rounds, so drift in machine load touches every path alike. */
async function measure(setup: ThreePaths, plan: Plan, ctx: SuiteContext): Promise<Samples> {
  const s: Samples = {
    single: perPath(() => []),
    many: perPath(() => []),
    capacity: perPath(() => []),
    few: perPath(() => []),
    rateErrors: [],
    latency: perPath(() => []),
    retransmits: 0,
    cpu: { single: perPath(() => ''), many: perPath(() => '') },
  };
  for (let round = 1; round <= plan.rounds; round++) {
    ctx.log(`round ${round} of ${plan.rounds}`);
    await throughputRound(setup, s, { plan, ctx });
    await connectionRound(setup, s, { plan, ctx });
    for (const path of paths) {
      const port = setup.entrances[path].echo;
      s.latency[path].push(...(await pingPong(port, { rounds: plan.pings, signal: ctx.signal })));
    }
  }
  return s;
}

const bestOf = (v: PerPath<number[]>): ThreeWay => ({
  direct: best(v.direct),
  ssh: best(v.ssh),
  postern: best(v.postern),
});

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
    ...comparisonRows(bestOf(s.capacity), {
      metric: `new TCP connections, ${rateLoops.capacity} loops`,
      unit: 'conn/s',
      target: 2.0,
    }),
    ...comparisonRows(bestOf(s.few), {
      metric: `new TCP connections, ${rateLoops.few} loops`,
      unit: 'conn/s',
    }),
    ...comparisonRows(pick('p50'), { metric: '64 B round trip p50', unit: 'µs' }),
    ...comparisonRows(pick('p99'), { metric: '64 B round trip p99', unit: 'µs' }),
  ];
}

function writeNotes(ctx: SuiteContext, s: Samples, o: { plan: Plan; setup: ThreePaths }): void {
  const { plan } = o;
  const runs = (v: PerPath<number[]>, digits: number): string =>
    paths
      .map((p) => `${pathLabels[p]} ${v[p].map((x) => x.toFixed(digits)).join(' / ')}`)
      .join('; ');
  const cpu = (key: 'single' | 'many'): string =>
    `ssh -R: ${s.cpu[key].ssh}; Postern: ${s.cpu[key].postern}`;
  ctx.note(
    'Paths, all on 127.0.0.1, every process separate: client → app (direct loopback); client → sshd forwarded port → `ssh -R` client → app; client → TCP virtual server of `postern edge` → mTLS tunnel → `postern connector` → app. Edge and connector log at level warn.',
  );
  ctx.note(
    `Peer: ${o.setup.versions.ssh}; \`ssh -N -R\` with \`-c aes128-gcm@openssh.com\` to an sshd started by the bench. Postern's tunnel negotiated ${o.setup.versions.posternTunnel} (its default settings).`,
  );
  ctx.note(
    `Throughput: ${o.setup.versions.iperf}; ${plan.iperfSeconds} s per run after ${plan.omit} s left out (slow start), as the iperf3 server received it; best of ${plan.rounds} interleaved round(s). Runs (Gbit/s): 1 stream: ${runs(s.single, 2)}. ${manyStreams} streams: ${runs(s.many, 2)}. Sender retransmits over all runs: ${s.retransmits}.`,
  );
  ctx.note(
    `CPU of the tunnel processes during the last run, 100% = one core, and that CPU divided by the run's Gbit/s: 1 stream: ${cpu('single')}. ${manyStreams} streams: ${cpu('many')}.`,
  );
  ctx.note(
    `New connections: N concurrent loops for ${plan.rateMs / 1000} s, each connect → send 1 byte → read the echo → close → wait for the close, against an echo app in its own node process; ${rateLoops.capacity} loops find the sustained rate (the target applies there), ${rateLoops.few} loops mostly show the time one connection takes. Best of ${plan.rounds}. Runs (conn/s): ${rateLoops.capacity} loops: ${runs(s.capacity, 0)}. ${rateLoops.few} loops: ${runs(s.few, 0)}.${s.rateErrors.length > 0 ? ` Failed connections: ${s.rateErrors.join('; ')}.` : ' No connection failed.'}`,
  );
  ctx.note(
    `Latency: ${plan.pings} round trips of 64 bytes per round on one connection (TCP_NODELAY on the client), after 200 unmeasured; p50/p99 over all rounds. Lower is better: a latency ratio below 1 favours the row's path.`,
  );
  ctx.note(
    `The "also" column of each Postern row is its ratio to direct loopback. 1-minute load average when the suite ended: ${(loadavg()[0] ?? 0).toFixed(2)} (other work on the machine lowers every figure).`,
  );
}

async function runSuite(ctx: SuiteContext): Promise<Result[]> {
  const plan = ctx.quick ? plans.quick : plans.full;
  // The runner exits the process once a suite overruns its budget: nothing may outlive it.
  return withChildren(ctx, 'postern-bench-', async (children, dir) => {
    const setup = await startThreePaths(children, { dir, log: (m) => ctx.log(m) });
    const samples = await measure(setup, plan, ctx);
    writeNotes(ctx, samples, { plan, setup });
    return results(samples);
  });
}

/** Postern edge + tunnel + connector against `ssh -R` and direct loopback. */
const suite: Suite = {
  name: 'edge-tunnel',
  title: 'Postern edge + tunnel + connector vs ssh -R and direct loopback',
  timeoutMs: 6 * 60_000,
  run: runSuite,
};
export default suite;
