// Issue 7, all cores: aggregate TCP throughput (8 iperf3 streams) and HTTP keep-alive
// requests/s of `postern edge --workers N` on a PostgreSQL store, for N = 1 up to the cores,
// measured in one run next to HAProxy with `nbthread N`. Connectors dial the one tunnel port
// and hold a tunnel to every worker before anything is measured. Every process is on 127.0.0.1.
import { mkdir } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../test/support/postgres-server.js';
import type { SpawnedProcess } from '../../test/e2e/support/spawned-process.js';
import { withChildren, type Children } from '../support/children.js';
import { getBody, pollUntil } from '../support/config-reload.js';
import { measureCpu } from '../support/cpu-usage.js';
import {
  backendBody,
  backendNginxConfig,
  startHaproxy,
  startNginx,
} from '../support/http-peers.js';
import { runIperfClient, startIperfServer } from '../support/iperf3.js';
import { waitForListen } from '../support/ports.js';
import { requireWrk, runWrk } from '../support/wrk.js';
import {
  connectorStateDir,
  startBenchConnector,
  startWorkerEdge,
  stopProcess,
  waitAllWorkersHeld,
} from '../support/worker-edge.js';
import { configure, prepare } from '../support/worker-setup.js';
import type { Setup, SetupPlan } from '../support/worker-setup.js';
import {
  haproxyScalingConfig,
  scalingPathLabels,
  scalingPaths,
  scalingRows,
  workerCounts,
} from '../support/worker-scaling.js';
import type { ScalingPath, ScalingPhase } from '../support/worker-scaling.js';
import type { Result, Suite, SuiteContext } from '../suite.js';

/** Sizes of a full run and of `--quick`. */
const plans = {
  full: { iperfSeconds: 4, omit: 1, wrkSeconds: 4, warmupSeconds: 1 },
  quick: { iperfSeconds: 2, omit: 0, wrkSeconds: 2, warmupSeconds: 0 },
} as const satisfies Record<string, SetupPlan>;
const streams = 8;
const connections = 64;

/** One iperf3 run with 8 streams through `port`, against a fresh one-off server; Gbit/s. */
async function iperf(
  children: Children,
  setup: Setup,
  o: { port: number; signal: AbortSignal },
): Promise<number> {
  const server = children.adopt(await startIperfServer(setup.ports.iperf));
  try {
    const { iperfSeconds: seconds, omit } = setup.plan;
    const result = await runIperfClient(o.port, { seconds, omit, streams, signal: o.signal });
    return result.bitsPerSecond / 1e9;
  } finally {
    if (!(await server.stop('SIGTERM', 2_000))) await server.stop('SIGKILL', 2_000);
  }
}

/** One wrk run (after a warm-up in a full run) against `url`; requests/s. */
async function wrk(setup: Setup, url: string, signal: AbortSignal): Promise<number> {
  const load = { script: setup.script, connections, signal };
  const { plan } = setup;
  if (plan.warmupSeconds > 0) await runWrk(url, { ...load, seconds: plan.warmupSeconds });
  const report = await runWrk(url, { ...load, seconds: plan.wrkSeconds });
  if (report.errors > 0) throw new Error(`wrk against ${url}: ${report.errorKinds}`);
  return report.perSecond;
}

/** Waits until every https entrance answers with the backend's body. */
async function httpsReady(setup: Setup, ports: number[], signal: AbortSignal): Promise<void> {
  for (const port of ports) {
    await pollUntil(
      () => getBody(`https://127.0.0.1:${port}/`, setup.certificate.cert),
      backendBody('a'),
      {
        since: performance.now(),
        timeoutMs: 10_000,
        intervalMs: 50,
        signal,
      },
    );
  }
}

/** The processes of one phase. */
interface PhaseProcesses {
  edge: SpawnedProcess;
  connectors: SpawnedProcess[];
  haproxy: SpawnedProcess;
}

/**
 * Starts the edge with `workers` workers (configuring it in the first phase), the connectors,
 * and HAProxy with as many threads; resolves when every connector holds every worker and
 * every https entrance answers.
 */
async function startPhase(
  children: Children,
  setup: Setup,
  o: { workers: number; ctx: SuiteContext; first: boolean },
): Promise<PhaseProcesses> {
  const { ctx, workers } = o;
  const { ports } = setup;
  ctx.log(`workers=${workers}: starting the edge`);
  const edge = await startWorkerEdge(children, setup.layout, workers);
  if (o.first) await configure(setup);
  const connectors = Array.from({ length: setup.connectors }, (_, i) =>
    startBenchConnector(children, {
      name: `connector-${i + 1}-w${workers}`,
      stateDir: connectorStateDir(setup.dir, i + 1),
      tunnelPort: ports.tunnel,
      ...(o.first ? { provisionKey: setup.provisionKeys[i] ?? '' } : {}),
    }),
  );
  const started = performance.now();
  await Promise.all(connectors.map((c) => waitAllWorkersHeld(c, workers)));
  const took = (performance.now() - started).toFixed(0);
  ctx.log(
    `workers=${workers}: ${setup.connectors} connector(s) hold every worker after ${took} ms`,
  );
  const haproxy = await startHaproxy(children, {
    dir: join(setup.dir, `haproxy-${workers}`),
    config: haproxyScalingConfig({
      threads: workers,
      tcpPort: ports.haproxyTcp,
      tcpBackend: ports.iperf,
      httpsPort: ports.haproxyHttps,
      httpBackend: ports.http,
      pem: setup.pem,
    }),
    port: ports.haproxyHttps,
  });
  await httpsReady(setup, [ports.httpsDirect, ports.httpsTunnel, ports.haproxyHttps], ctx.signal);
  return { edge, connectors, haproxy };
}

/** Measures every path of a started phase; Postern's with the edge's and connectors' CPU. */
async function measurePhase(
  children: Children,
  setup: Setup,
  o: { workers: number; ctx: SuiteContext; processes: PhaseProcesses },
): Promise<ScalingPhase> {
  const { ctx, workers } = o;
  const { ports } = setup;
  const signal = ctx.signal;
  const pid = (p: SpawnedProcess) => p.child.pid ?? 0;
  const watched = [o.processes.edge, ...o.processes.connectors].map((p) => ({
    name: p.name,
    pid: pid(p),
  }));
  const cpu: string[] = [];
  const measure = async (label: string, work: () => Promise<number>): Promise<number> => {
    signal.throwIfAborted();
    const { value, shares } = await measureCpu(watched, work);
    const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
    const connectors = shares.slice(1).reduce((a, b) => a + b, 0);
    cpu.push(`${label}: edge ${pct(shares[0] ?? 0)}, connectors ${pct(connectors)}`);
    ctx.log(`workers=${workers} ${label}: ${value.toFixed(2)}`);
    return value;
  };
  const postern = {} as Record<ScalingPath, number>;
  for (const path of scalingPaths.filter((p) => p.startsWith('tcp'))) {
    const port = ports[path];
    postern[path] = await measure(scalingPathLabels[path], () =>
      iperf(children, setup, { port, signal }),
    );
  }
  const tcp = await iperf(children, setup, { port: ports.haproxyTcp, signal });
  ctx.log(`workers=${workers} HAProxy tcp: ${tcp.toFixed(2)}`);
  for (const path of scalingPaths.filter((p) => p.startsWith('https'))) {
    const url = `https://127.0.0.1:${ports[path]}/`;
    postern[path] = await measure(scalingPathLabels[path], () => wrk(setup, url, signal));
  }
  const https = await wrk(setup, `https://127.0.0.1:${ports.haproxyHttps}/`, signal);
  ctx.log(`workers=${workers} HAProxy https: ${https.toFixed(0)}`);
  ctx.note(
    `workers=${workers}: CPU (100% = one core; edge = primary and workers, connectors added up): ${cpu.join('; ')}.`,
  );
  return { workers, postern, haproxy: { tcp, https } };
}

/** One phase: start, measure, stop (clients before servers; the workers stop with the edge). */
async function runPhase(
  children: Children,
  setup: Setup,
  o: { workers: number; ctx: SuiteContext; first: boolean },
): Promise<ScalingPhase> {
  const { edge, connectors, haproxy } = await startPhase(children, setup, o);
  const phase = await measurePhase(children, setup, {
    ...o,
    processes: { edge, connectors, haproxy },
  });
  for (const c of connectors) await stopProcess(c);
  await stopProcess(edge);
  await stopProcess(haproxy);
  return phase;
}

function writeNotes(ctx: SuiteContext, setup: Setup, o: { wrk: string; counts: number[] }): void {
  const { plan } = setup;
  ctx.note(
    `Method: \`postern edge --workers N\` (node:cluster, ports shared) on a PostgreSQL store started for the run, N = ${o.counts.join(', ')} (${availableParallelism()} cores), one after the other with the same configuration; ${setup.connectors} connector(s) dial the one tunnel port and hold a tunnel to every worker before anything is measured. HAProxy runs with \`nbthread N\` in the same phase. Log level warn on the edge.`,
  );
  ctx.note(
    `TCP: iperf3 with ${streams} parallel streams for ${plan.iperfSeconds} s (${plan.omit} s left out), received Gbit/s; direct pool = the edge dials the iperf3 server, via pool = through a connector's tunnel; HAProxy \`mode tcp\`.`,
  );
  ctx.note(
    `HTTP: ${o.wrk}, 1 thread, ${connections} keep-alive connections, GET / of a 10-byte nginx answer (1 worker), ${plan.wrkSeconds} s${plan.warmupSeconds > 0 ? ` after a ${plan.warmupSeconds} s warm-up` : ''}; HAProxy \`mode http\`, TLS terminated, \`http-reuse always\`.`,
  );
  ctx.note(
    `Ratios: workers=N against workers=1 (target ≥ 1.2× for Postern: throughput grows with the workers) and Postern against HAProxy with as many threads. The load generators share the machine's cores with the proxies, so on a small machine scaling is bounded by them (compare HAProxy's own nbthread ratio). 1-minute load average when the suite ended: ${(loadavg()[0] ?? 0).toFixed(2)}.`,
  );
}

async function runSuite(ctx: SuiteContext): Promise<Result[]> {
  const plan = ctx.quick ? plans.quick : plans.full;
  const counts = workerCounts(availableParallelism());
  const wrkVersion = await requireWrk();
  const pg = await startPostgres();
  try {
    return await withChildren(ctx, 'postern-bench-workers-', async (children, dir) => {
      const setup = await prepare(dir, pg, plan, counts);
      const backendDir = join(dir, 'backend');
      await mkdir(backendDir, { recursive: true });
      await startNginx(children, {
        name: 'backend',
        dir: backendDir,
        config: backendNginxConfig({ dir: backendDir, ports: { a: setup.ports.http } }),
        port: setup.ports.http,
      });
      await waitForListen(setup.ports.http, { timeoutMs: 5_000, what: 'backend' });
      const phases: ScalingPhase[] = [];
      for (const workers of counts) {
        phases.push(await runPhase(children, setup, { workers, ctx, first: phases.length === 0 }));
      }
      writeNotes(ctx, setup, { wrk: wrkVersion, counts });
      return scalingRows(phases);
    });
  } finally {
    await pg.stop();
  }
}

/** Aggregate TCP throughput and HTTP requests/s of the edge with 1..N workers, next to HAProxy. */
const suite: Suite = {
  name: 'workers',
  title:
    'postern edge --workers N: TCP throughput and HTTP requests/s by worker count, vs HAProxy nbthread N',
  timeoutMs: 4 * 60_000,
  run: runSuite,
};
export default suite;
