// Setup of the workers suite, chosen once and shared by every phase: fixed loopback ports, the
// edge's layout on the PostgreSQL store, the certificate, and the configuration (connector
// group, provisioning keys, pools and virtual servers) written through the admin API.
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PostgresServer } from '../../test/support/postgres-server.js';
import { createSelfSignedCert } from '../../test/support/tls-cert.js';
import type { SelfSignedCert } from '../../test/support/tls-cert.js';
import { freePort } from './ports.js';
import { benchGroup, workerAdminApi } from './worker-edge.js';
import type { WorkerEdgeLayout } from './worker-edge.js';
import type { ScalingPath } from './worker-scaling.js';
import { writeWrkScript } from './wrk.js';

/** Durations of one phase's runs, in seconds. */
export interface SetupPlan {
  iperfSeconds: number;
  omit: number;
  wrkSeconds: number;
  warmupSeconds: number;
}

/** Fixed ports of everything, chosen once, so one configuration serves every phase. */
export interface Ports {
  tunnel: number;
  admin: number;
  iperf: number;
  http: number;
  tcpDirect: number;
  tcpTunnel: number;
  httpsDirect: number;
  httpsTunnel: number;
  haproxyTcp: number;
  haproxyHttps: number;
}

/** Everything the phases share: fixed ports, the edge's layout, certificate, provisioning keys. */
export interface Setup {
  dir: string;
  ports: Ports;
  layout: WorkerEdgeLayout;
  certificate: SelfSignedCert;
  pem: string;
  connectors: number;
  provisionKeys: string[];
  script: string;
  plan: SetupPlan;
}

/** A free loopback port for every name of {@link Ports}. */
async function pickPorts(): Promise<Ports> {
  const names: (keyof Ports)[] = [
    'tunnel',
    'admin',
    'iperf',
    'http',
    'tcpDirect',
    'tcpTunnel',
    'httpsDirect',
    'httpsTunnel',
    'haproxyTcp',
    'haproxyHttps',
  ];
  const ports: Partial<Ports> = {};
  for (const name of names) ports[name] = await freePort();
  return ports as Ports;
}

/** Creates the group, provisioning keys, certificate, pools and virtual servers once. */
export async function configure(setup: Setup): Promise<void> {
  const api = workerAdminApi(setup.layout);
  const { ports, certificate } = setup;
  await api('POST', '/connector-groups', { name: benchGroup });
  for (let i = 0; i < setup.connectors; i++) {
    const key = await api<{ value: string }>('POST', '/provisioning-keys', { group: benchGroup });
    setup.provisionKeys.push(key.value);
  }
  await api('POST', '/certificates', {
    name: 'bench',
    cert: certificate.cert,
    key: certificate.key,
  });
  const node = (port: number) => ({ nodes: [{ address: `127.0.0.1:${port}` }] });
  const services: { name: ScalingPath; app: number; via: boolean; tls: boolean }[] = [
    { name: 'tcpDirect', app: ports.iperf, via: false, tls: false },
    { name: 'tcpTunnel', app: ports.iperf, via: true, tls: false },
    { name: 'httpsDirect', app: ports.http, via: false, tls: true },
    { name: 'httpsTunnel', app: ports.http, via: true, tls: true },
  ];
  for (const s of services) {
    const name = s.name.toLowerCase();
    await api('POST', '/pools', { name, ...(s.via ? { via: benchGroup } : {}), ...node(s.app) });
    await api('POST', '/virtual-servers', {
      name,
      protocol: s.tls ? 'https' : 'tcp',
      listen: `127.0.0.1:${ports[s.name]}`,
      pool: name,
      ...(s.tls ? { tls: { certificates: ['bench'] } } : {}),
    });
  }
}

/** Certificate, ports and the edge's layout of one run, in `dir`, on the store of `pg`. */
export async function prepare(
  dir: string,
  pg: PostgresServer,
  plan: SetupPlan,
  counts: number[],
): Promise<Setup> {
  const certificate = await createSelfSignedCert();
  const pem = join(dir, 'all.pem');
  await writeFile(pem, `${certificate.cert.trimEnd()}\n${certificate.key}`, { mode: 0o600 });
  const ports = await pickPorts();
  const layout: WorkerEdgeLayout = {
    dataDir: join(dir, 'edge'),
    store: pg.connectionString,
    tunnelPort: ports.tunnel,
    adminPort: ports.admin,
    adminToken: `pat_bench_${randomBytes(12).toString('hex')}`,
  };
  return {
    dir,
    ports,
    layout,
    certificate,
    pem,
    // As many connectors as the most workers, the same in every phase.
    connectors: Math.max(...counts),
    provisionKeys: [],
    script: await writeWrkScript(dir),
    plan,
  };
}
