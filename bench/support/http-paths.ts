// The HTTP paths the http-virtual-server suite compares, started side by side in front of one
// nginx backend: the backend alone, HAProxy and nginx terminating TLS, Postern's https virtual
// server with a direct pool and with a `via` pool through its tunnel, and `ssh -R` (alone, and
// behind HAProxy terminating TLS so that it does the work of Postern's https via path).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSelfSignedCert } from '../../test/support/tls-cert.js';
import type { SelfSignedCert } from '../../test/support/tls-cert.js';
import type { Children } from './children.js';
import { getBody, pollUntil } from './config-reload.js';
import type { CpuWatch } from './cpu-usage.js';
import {
  backendBody,
  backendNginxConfig,
  haproxyConfig,
  nginxProxyConfig,
  peerVersions,
  startHaproxy,
  startNginx,
} from './http-peers.js';
import { freePort } from './ports.js';
import { negotiatedCipher, startPostern } from './postern-stack.js';
import type { PosternStack } from './postern-stack.js';
import { startSshReverse } from './ssh-reverse.js';
import { requireWrk } from './wrk.js';

/** One of the compared HTTP paths. */
export type HttpPath =
  | 'backend'
  | 'haproxy'
  | 'nginx'
  | 'posternDirect'
  | 'ssh'
  | 'haproxySsh'
  | 'posternTunnel'
  | 'posternTcpTunnel';

/** The paths in the order they are measured and shown. */
export const httpPaths: readonly HttpPath[] = [
  'backend',
  'haproxy',
  'nginx',
  'posternDirect',
  'ssh',
  'haproxySsh',
  'posternTunnel',
  'posternTcpTunnel',
];

/** Row labels of the paths. */
export const httpPathLabels: Record<HttpPath, string> = {
  backend: 'backend alone (http, no proxy)',
  haproxy: 'HAProxy (https, mode http)',
  nginx: 'nginx reverse proxy (https)',
  posternDirect: 'Postern https, direct pool',
  ssh: 'ssh -R (http through the tunnel)',
  haproxySsh: 'HAProxy (https, mode http) → ssh -R',
  posternTunnel: 'Postern https, via pool (tunnel)',
  posternTcpTunnel: 'Postern tcp virtual server, via pool (http through the tunnel)',
};

/** Where one path's requests go, and which processes carry them (the backend's apart). */
export interface HttpEntrance {
  url: string;
  watched: CpuWatch[];
}

/** The running paths and what the notes need about them. */
export interface HttpPaths {
  entrances: Record<HttpPath, HttpEntrance>;
  /** The backend nginx: its process for CPU, and its port per pool name (`a` is measured). */
  backend: { watch: CpuWatch; ports: Record<'a' | 'b', number> };
  certificate: SelfSignedCert;
  postern: PosternStack;
  versions: { wrk: string; nginx: string; haproxy: string; ssh: string; tls: string };
}

/** Options of {@link startHttpPaths}. */
export interface HttpPathsOptions {
  /** Temporary directory for configuration, keys and state. */
  dir: string;
  /** Passed to Postern's processes (node --cpu-prof). */
  cpuProfDir?: string | undefined;
  signal: AbortSignal;
  log(message: string): void;
}

const pidOf = (p: { child: { pid?: number | undefined } }): number => p.child.pid ?? 0;

/** Writes the certificate as PEM files: cert, key, and cert + key together for HAProxy. */
async function writeCertificate(dir: string, c: SelfSignedCert) {
  const files = {
    cert: join(dir, 'cert.pem'),
    key: join(dir, 'key.pem'),
    pem: join(dir, 'all.pem'),
  };
  await writeFile(files.cert, c.cert);
  await writeFile(files.key, c.key, { mode: 0o600 });
  await writeFile(files.pem, `${c.cert.trimEnd()}\n${c.key}`, { mode: 0o600 });
  return files;
}

async function startPeers(children: Children, o: HttpPathsOptions, backend: number) {
  const certificate = await createSelfSignedCert();
  const files = await writeCertificate(o.dir, certificate);
  const haproxyPort = await freePort();
  const haproxy = await startHaproxy(children, {
    dir: join(o.dir, 'haproxy'),
    config: haproxyConfig({ port: haproxyPort, backend, pem: files.pem }),
    port: haproxyPort,
  });
  const nginxPort = await freePort();
  const nginxDir = join(o.dir, 'nginx-proxy');
  const nginx = await startNginx(children, {
    name: 'nginx-proxy',
    dir: nginxDir,
    config: nginxProxyConfig({ dir: nginxDir, port: nginxPort, backend, ...files }),
    port: nginxPort,
  });
  return { certificate, haproxy, haproxyPort, nginx, nginxPort, pem: files.pem };
}

/** Starts the backend, the peers and Postern; resolves when every path answers a GET. */
export async function startHttpPaths(children: Children, o: HttpPathsOptions): Promise<HttpPaths> {
  const wrk = await requireWrk();
  const peerVersion = await peerVersions();
  const ports = { a: await freePort(), b: await freePort() };
  const backendDir = join(o.dir, 'backend');
  const backend = await startNginx(children, {
    name: 'backend',
    dir: backendDir,
    config: backendNginxConfig({ dir: backendDir, ports }),
    port: ports.a,
  });
  o.log('starting HAProxy and nginx');
  const peers = await startPeers(children, o, ports.a);
  o.log('starting sshd and ssh -R');
  const ssh = await startSshReverse(children, { dir: join(o.dir, 'ssh'), appPorts: [ports.a] });
  // The tunnel peer doing what Postern's https via path does: TLS terminated and HTTP parsed at
  // the entrance (HAProxy, one thread), then through the tunnel to the backend.
  const sshFront = await freePort();
  const haproxySsh = await startHaproxy(children, {
    dir: join(o.dir, 'haproxy-ssh'),
    config: haproxyConfig({
      port: sshFront,
      backend: ssh.ports.get(ports.a) ?? 0,
      pem: peers.pem,
    }),
    port: sshFront,
  });
  o.log('starting postern edge and connector');
  const postern = await startPostern(children, {
    dir: join(o.dir, 'postern'),
    cpuProfDir: o.cpuProfDir,
  });
  const certificate = { cert: peers.certificate.cert, key: peers.certificate.key };
  const direct = await postern.httpsService('direct', {
    appPort: ports.a,
    via: false,
    certificate,
  });
  const tunnel = await postern.httpsService('tunnel', { appPort: ports.a, via: true, certificate });
  const tcpTunnel = await postern.tcpService('tcp-tunnel', ports.a);
  const edge = { name: 'edge', pid: pidOf(postern.edge) };
  const entrances: Record<HttpPath, HttpEntrance> = {
    backend: { url: `http://127.0.0.1:${ports.a}/`, watched: [] },
    haproxy: {
      url: `https://127.0.0.1:${peers.haproxyPort}/`,
      watched: [{ name: 'haproxy', pid: pidOf(peers.haproxy) }],
    },
    nginx: {
      url: `https://127.0.0.1:${peers.nginxPort}/`,
      watched: [{ name: 'nginx', pid: pidOf(peers.nginx) }],
    },
    posternDirect: { url: `https://127.0.0.1:${direct}/`, watched: [edge] },
    ssh: {
      url: `http://127.0.0.1:${ssh.ports.get(ports.a) ?? 0}/`,
      watched: [
        { name: 'sshd', pid: pidOf(ssh.sshd) },
        { name: 'ssh', pid: pidOf(ssh.ssh) },
      ],
    },
    haproxySsh: {
      url: `https://127.0.0.1:${sshFront}/`,
      watched: [
        { name: 'haproxy', pid: pidOf(haproxySsh) },
        { name: 'sshd', pid: pidOf(ssh.sshd) },
        { name: 'ssh', pid: pidOf(ssh.ssh) },
      ],
    },
    posternTunnel: {
      url: `https://127.0.0.1:${tunnel}/`,
      watched: [edge, { name: 'connector', pid: pidOf(postern.connector) }],
    },
    posternTcpTunnel: {
      url: `http://127.0.0.1:${tcpTunnel}/`,
      watched: [edge, { name: 'connector', pid: pidOf(postern.connector) }],
    },
  };
  for (const path of httpPaths) {
    await pollUntil(() => getBody(entrances[path].url, certificate.cert), backendBody('a'), {
      since: performance.now(),
      timeoutMs: 10_000,
      intervalMs: 50,
      signal: o.signal,
    }).catch((err: Error) => {
      throw new Error(`${httpPathLabels[path]}: ${err.message}`);
    });
  }
  const tls = await negotiatedCipher(`127.0.0.1:${direct}`);
  return {
    entrances,
    backend: { watch: { name: 'backend', pid: pidOf(backend) }, ports },
    certificate: peers.certificate,
    postern,
    versions: { wrk, ...peerVersion, ssh: ssh.version, tls },
  };
}
