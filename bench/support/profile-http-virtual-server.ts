// Profiles Postern's edge (and connector) while wrk loads an https virtual server, then prints
// where each process spent its CPU during the load. For work on the l7 code, not part of
// `npm run bench`:
//   node dist/bench/support/profile-http-virtual-server.js [--via] [--seconds 8]
//        [--connections 64] [--keep DIR]
// Without --via the pool is direct (the edge dials the nginx backend); with it the requests
// go through the connector's tunnel. --keep leaves the .cpuprofile files in DIR.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createSelfSignedCert } from '../../test/support/tls-cert.js';
import { Children } from './children.js';
import { getBody, pollUntil } from './config-reload.js';
import { formatSummary, summarizeProfile } from './cpu-profile.js';
import type { CpuProfile } from './cpu-profile.js';
import { measureCpu } from './cpu-usage.js';
import {
  backendBody,
  backendNginxConfig,
  backendStatusPath,
  parseStubStatus,
  startNginx,
} from './http-peers.js';
import { freePort } from './ports.js';
import { startPostern } from './postern-stack.js';
import { runWrk, writeWrkScript } from './wrk.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      via: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '8' },
      connections: { type: 'string', default: '64' },
      keep: { type: 'string' },
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'postern-profile-http-'));
  const profiles = values.keep ?? join(dir, 'profiles');
  const children = new Children();
  try {
    const port = await freePort();
    const backendDir = join(dir, 'backend');
    const backend = await startNginx(children, {
      name: 'backend',
      dir: backendDir,
      config: backendNginxConfig({ dir: backendDir, ports: { a: port } }),
      port,
    });
    const stack = await startPostern(children, { dir, cpuProfDir: profiles });
    const certificate = await createSelfSignedCert();
    const entrance = await stack.httpsService('web', {
      appPort: port,
      via: values.via,
      certificate,
    });
    const url = `https://127.0.0.1:${entrance}/`;
    const signal = AbortSignal.timeout(120_000);
    await pollUntil(() => getBody(url, certificate.cert), backendBody('a'), {
      since: performance.now(),
      timeoutMs: 10_000,
      intervalMs: 50,
      signal,
    });
    const script = await writeWrkScript(dir);
    const load = { script, connections: Number(values.connections), signal };
    await runWrk(url, { ...load, seconds: 1 }); // warm-up, outside the profile window
    const watched = [
      { name: 'edge', pid: stack.edge.child.pid ?? 0 },
      { name: 'connector', pid: stack.connector.child.pid ?? 0 },
      { name: 'backend', pid: backend.child.pid ?? 0 },
    ];
    const status = async (): Promise<number> =>
      parseStubStatus(await getBody(`http://127.0.0.1:${port}${backendStatusPath}`, '')).accepts;
    const acceptedBefore = await status();
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const { value: report, shares } = await measureCpu(watched, () =>
      runWrk(url, { ...load, seconds: Number(values.seconds) }),
    );
    const toUs = Number(process.hrtime.bigint() / 1000n);
    const accepted = (await status()) - acceptedBefore - 1;
    console.log(
      `through Postern (${values.via ? 'via pool, tunnel' : 'direct pool'}): ${report.perSecond.toFixed(0)} req/s, ` +
        `p50 ${(report.latency.p50 / 1000).toFixed(2)} ms, p99 ${(report.latency.p99 / 1000).toFixed(2)} ms, ${report.errors} errors, ${accepted} new backend connections`,
    );
    const cpu = watched.map((w, i) => `${w.name} ${((shares[i] ?? 0) * 100).toFixed(0)}%`);
    console.log(`CPU (100% = one core): ${cpu.join(', ')}, wrk ${(report.cpu * 100).toFixed(0)}%`);
    const survivors = await children.stopAll(10_000);
    if (survivors.length > 0)
      console.log(`did not exit on SIGTERM (no profile): ${survivors.join(', ')}`);
    for (const file of (await readdir(profiles)).filter((f) => f.endsWith('.cpuprofile')).sort()) {
      const profile = JSON.parse(await readFile(join(profiles, file), 'utf8')) as CpuProfile;
      const summary = summarizeProfile(profile, { top: 30, fromUs, toUs });
      console.log(`\n${formatSummary(`${file}, during the load`, summary)}`);
    }
  } finally {
    await children.stopAll(1_000);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
