// The three paths the edge-tunnel suite compares, started side by side: the private apps
// (an iperf3 port and a Node echo server) reached directly, through `ssh -R`, and through
// Postern's edge + tunnel + connector.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Children } from './children.js';
import { pathLabels } from './comparison.js';
import type { ThreeWay } from './comparison.js';
import { freePort, waitForEcho } from './ports.js';
import { startPostern } from './postern-stack.js';
import { startSshReverse } from './ssh-reverse.js';

const run = promisify(execFile);

/** One of the compared paths. */
export type Path = keyof ThreeWay;

/** The paths in the order they are measured and shown. */
export const paths: readonly Path[] = ['direct', 'ssh', 'postern'];

/** A process whose CPU time is watched while a path carries traffic. */
export interface Watched {
  name: string;
  pid: number;
}

/** Where one path's traffic enters, and which processes carry it. */
export interface Entrance {
  /** Port that leads to the iperf3 server's port. */
  iperf: number;
  /** Port that leads to the echo app. */
  echo: number;
  watched: Watched[];
}

/** The running paths. */
export interface ThreePaths {
  entrances: Record<Path, Entrance>;
  /** The app port iperf3 servers listen on. */
  iperfPort: number;
  /** Versions of the tools and Postern's negotiated tunnel cipher, for the notes. */
  versions: { iperf: string; ssh: string; posternTunnel: string };
}

/** Throws, naming scripts/setup-test-host.sh, when iperf3 or OpenSSH is missing; returns iperf3's version. */
export async function requireTools(): Promise<string> {
  const missing: string[] = [];
  let iperf = '';
  try {
    iperf = (await run('iperf3', ['--version'], { timeout: 5_000 })).stdout.split('\n')[0] ?? '';
  } catch {
    missing.push('iperf3');
  }
  const probes = [
    ['/usr/sbin/sshd', ['-V']],
    ['ssh', ['-V']],
    ['ssh-keygen', ['-?']],
  ] as const;
  for (const [tool, args] of probes) {
    // These print usage or version with a non-zero status; only ENOENT means missing.
    await run(tool, args, { timeout: 5_000 }).catch((err: { code?: unknown }) => {
      if (err.code === 'ENOENT') missing.push(tool);
    });
  }
  if (missing.length > 0) {
    throw new Error(
      `missing ${missing.join(', ')}: run scripts/setup-test-host.sh (installs iperf3 and OpenSSH)`,
    );
  }
  return iperf;
}

async function startEchoApp(children: Children): Promise<number> {
  const script = fileURLToPath(new URL('./echo-server.js', import.meta.url));
  const app = children.spawn('echo-app', process.execPath, [script, '0']);
  const line = await app.waitFor((l) => typeof l.json?.port === 'number', {
    timeoutMs: 10_000,
    what: 'the echo app port',
  });
  return line.json?.port as number;
}

/** Options of {@link startThreePaths}. */
export interface ThreePathsOptions {
  /** Temporary directory for keys, configuration and state. */
  dir: string;
  /** Passed to Postern's processes (node --cpu-prof). */
  cpuProfDir?: string | undefined;
  log(message: string): void;
}

/** Starts the apps, `ssh -R` and Postern; resolves when every path answers an echo. */
export async function startThreePaths(
  children: Children,
  options: ThreePathsOptions,
): Promise<ThreePaths> {
  const iperf = await requireTools();
  const iperfPort = await freePort();
  const echoPort = await startEchoApp(children);
  options.log('starting sshd and ssh -R');
  const ssh = await startSshReverse(children, {
    dir: join(options.dir, 'ssh'),
    appPorts: [iperfPort, echoPort],
  });
  options.log('starting postern edge and connector');
  const postern = await startPostern(children, {
    dir: join(options.dir, 'postern'),
    cpuProfDir: options.cpuProfDir,
  });
  // The echo service goes last: once it answers, the connector holds the configuration that
  // allows both targets (configuration pushes arrive in order).
  const posternIperf = await postern.tcpService('iperf3', iperfPort);
  const posternEcho = await postern.tcpService('echo', echoPort);
  const pid = (p: { child: { pid?: number | undefined } }): number => p.child.pid ?? 0;
  const entrances: Record<Path, Entrance> = {
    direct: { iperf: iperfPort, echo: echoPort, watched: [] },
    ssh: {
      iperf: ssh.ports.get(iperfPort) ?? 0,
      echo: ssh.ports.get(echoPort) ?? 0,
      watched: [
        { name: 'sshd', pid: pid(ssh.sshd) },
        { name: 'ssh', pid: pid(ssh.ssh) },
      ],
    },
    postern: {
      iperf: posternIperf,
      echo: posternEcho,
      watched: [
        { name: 'edge', pid: pid(postern.edge) },
        { name: 'connector', pid: pid(postern.connector) },
      ],
    },
  };
  for (const path of paths) {
    await waitForEcho(entrances[path].echo, { timeoutMs: 10_000, what: pathLabels[path] });
  }
  const posternTunnel = await postern.tunnelCipher();
  return { entrances, iperfPort, versions: { iperf, ssh: ssh.version, posternTunnel } };
}
