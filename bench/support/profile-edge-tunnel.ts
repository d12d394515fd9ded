// Profiles Postern's edge and connector while iperf3 pushes bytes through them, then prints
// where each process spent its CPU. For the tunnel work, not part of `npm run bench`:
//   node dist/bench/support/profile-edge-tunnel.js [--seconds 8] [--streams 1] [--keep DIR]
// Needs iperf3 (scripts/setup-test-host.sh). Profiles are written by node --cpu-prof when the
// processes exit after SIGTERM; --keep leaves the .cpuprofile files in DIR for DevTools.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Children } from './children.js';
import { cpuSeconds } from './cpu-usage.js';
import { formatSummary, summarizeProfile } from './cpu-profile.js';
import type { CpuProfile } from './cpu-profile.js';
import { runIperfClient, startIperfServer } from './iperf3.js';
import { freePort } from './ports.js';
import { startPostern } from './postern-stack.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      streams: { type: 'string', default: '1' },
      keep: { type: 'string' },
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'postern-profile-'));
  const profiles = values.keep ?? join(dir, 'profiles');
  const children = new Children();
  try {
    const appPort = await freePort();
    const stack = await startPostern(children, { dir, cpuProfDir: profiles });
    const entrance = await stack.tcpService('iperf3', appPort);
    const pids = [stack.edge.child.pid ?? 0, stack.connector.child.pid ?? 0];
    const server = children.adopt(await startIperfServer(appPort));
    const before = cpuSeconds(pids);
    const started = performance.now();
    const result = await runIperfClient(entrance, {
      seconds: Number(values.seconds),
      streams: Number(values.streams),
      omit: 1,
      signal: AbortSignal.timeout(120_000),
    });
    const wall = (performance.now() - started) / 1000;
    const after = cpuSeconds(pids);
    await server.exited;
    console.log(
      `iperf3 ${values.streams} stream(s) through Postern: ${(result.bitsPerSecond / 1e9).toFixed(2)} Gbit/s`,
    );
    if (before && after) {
      const share = (i: number): string =>
        `${((((after[i] ?? 0) - (before[i] ?? 0)) / wall) * 100).toFixed(0)}%`;
      console.log(
        `CPU over the ${wall.toFixed(1)} s run (100% = one core): edge ${share(0)}, connector ${share(1)}`,
      );
    }
    const survivors = await children.stopAll(10_000);
    if (survivors.length > 0)
      console.log(`did not exit on SIGTERM (no profile): ${survivors.join(', ')}`);
    for (const file of (await readdir(profiles)).filter((f) => f.endsWith('.cpuprofile')).sort()) {
      const profile = JSON.parse(await readFile(join(profiles, file), 'utf8')) as CpuProfile;
      console.log(`\n${formatSummary(file, summarizeProfile(profile, 20))}`);
    }
  } finally {
    await children.stopAll(1_000);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
