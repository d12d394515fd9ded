// Profiles Postern's edge and connector under load, then prints where each process spent its
// CPU during the load. For the tunnel and edge work, not part of `npm run bench`:
//   node dist/bench/support/profile-edge-tunnel.js [--load iperf|connections] [--seconds 8]
//        [--streams 1] [--keep DIR]
// `iperf` runs iperf3 (scripts/setup-test-host.sh) with --streams streams; `connections` runs
// 64 connect-echo-close loops against an echo app. Profiles are written by node --cpu-prof
// when the processes exit after SIGTERM; --keep leaves the .cpuprofile files in DIR.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Children } from './children.js';
import { cpuSeconds } from './cpu-usage.js';
import { formatSummary, summarizeProfile } from './cpu-profile.js';
import type { CpuProfile } from './cpu-profile.js';
import { runIperfClient, startIperfServer } from './iperf3.js';
import { freePort, waitForEcho } from './ports.js';
import { startPostern } from './postern-stack.js';
import type { PosternStack } from './postern-stack.js';
import { connectionRate } from './tcp-load.js';

interface Load {
  seconds: number;
  streams: number;
}

async function iperfLoad(children: Children, stack: PosternStack, load: Load): Promise<string> {
  const appPort = await freePort();
  const entrance = await stack.tcpService('iperf3', appPort);
  const server = children.adopt(await startIperfServer(appPort));
  const signal = AbortSignal.timeout((load.seconds + 60) * 1000);
  const result = await runIperfClient(entrance, {
    seconds: load.seconds,
    streams: load.streams,
    omit: 1,
    signal,
  });
  await server.exited;
  return `iperf3, ${load.streams} stream(s): ${(result.bitsPerSecond / 1e9).toFixed(2)} Gbit/s`;
}

async function connectionLoad(
  children: Children,
  stack: PosternStack,
  load: Load,
): Promise<string> {
  const script = fileURLToPath(new URL('./echo-server.js', import.meta.url));
  const app = children.spawn('echo-app', process.execPath, [script, '0']);
  const line = await app.waitFor((l) => typeof l.json?.port === 'number', {
    timeoutMs: 10_000,
    what: 'the echo port',
  });
  const entrance = await stack.tcpService('echo', line.json?.port as number);
  await waitForEcho(entrance, { timeoutMs: 10_000, what: 'Postern' });
  const signal = AbortSignal.timeout((load.seconds + 60) * 1000);
  const r = await connectionRate(entrance, {
    concurrency: 64,
    durationMs: load.seconds * 1000,
    signal,
  });
  return `connections, 64 loops: ${r.perSecond.toFixed(0)}/s, ${r.errors} failed`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      load: { type: 'string', default: 'iperf' },
      seconds: { type: 'string', default: '8' },
      streams: { type: 'string', default: '1' },
      keep: { type: 'string' },
    },
  });
  if (values.load !== 'iperf' && values.load !== 'connections')
    throw new Error('--load is iperf or connections');
  const load = { seconds: Number(values.seconds), streams: Number(values.streams) };
  const dir = await mkdtemp(join(tmpdir(), 'postern-profile-'));
  const profiles = values.keep ?? join(dir, 'profiles');
  const children = new Children();
  try {
    const stack = await startPostern(children, { dir, cpuProfDir: profiles });
    const pids = [stack.edge.child.pid ?? 0, stack.connector.child.pid ?? 0];
    const before = cpuSeconds(pids);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const started = performance.now();
    const outcome = await (values.load === 'iperf' ? iperfLoad : connectionLoad)(
      children,
      stack,
      load,
    );
    const wall = (performance.now() - started) / 1000;
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const after = cpuSeconds(pids);
    console.log(`through Postern: ${outcome}`);
    if (before && after) {
      const share = (i: number): string =>
        `${((((after[i] ?? 0) - (before[i] ?? 0)) / wall) * 100).toFixed(0)}%`;
      console.log(
        `CPU over the ${wall.toFixed(1)} s of load (100% = one core): edge ${share(0)}, connector ${share(1)}`,
      );
    }
    const survivors = await children.stopAll(10_000);
    if (survivors.length > 0)
      console.log(`did not exit on SIGTERM (no profile): ${survivors.join(', ')}`);
    for (const file of (await readdir(profiles)).filter((f) => f.endsWith('.cpuprofile')).sort()) {
      const profile = JSON.parse(await readFile(join(profiles, file), 'utf8')) as CpuProfile;
      console.log(
        `\n${formatSummary(`${file}, during the load`, summarizeProfile(profile, { top: 20, fromUs, toUs }))}`,
      );
    }
  } finally {
    await children.stopAll(1_000);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
