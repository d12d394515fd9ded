// Postern as the suite runs it: `postern edge` and `postern connector` as two separate node
// processes of the built CLI, configured through the admin API like an operator would.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { SpawnedProcess } from '../../test/e2e/support/spawned-process.js';
import type { Children } from './children.js';
import { freePort } from './ports.js';

/** The built CLI, seen from dist/bench/support/. */
const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const startTimeoutMs = 15_000;
const group = 'bench';

/** Options of {@link startPostern}. */
export interface PosternStackOptions {
  /** Temporary directory for the edge's data dir and the connector's state dir. */
  dir: string;
  /** Writes V8 CPU profiles of both processes here when they exit (node --cpu-prof). */
  cpuProfDir?: string | undefined;
  /** Passed to the edge as --config-dir (configuration documents). */
  configDir?: string | undefined;
}

/** A running edge and connector, with one tunnel between them. */
export interface PosternStack {
  readonly edge: SpawnedProcess;
  readonly connector: SpawnedProcess;
  /** The TLS version and cipher suite the edge's tunnel port negotiates, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384`. */
  tunnelCipher(): Promise<string>;
  /** Publishes 127.0.0.1:`appPort` through the connector as a TCP virtual server; returns its port. */
  tcpService(name: string, appPort: number): Promise<number>;
  /**
   * Publishes the HTTP server on 127.0.0.1:`appPort` as an https virtual server terminating TLS
   * with `certificate`, through the connector (`via: true`) or dialed by the edge; returns its port.
   */
  httpsService(name: string, options: HttpsServiceOptions): Promise<number>;
}

/** Options of {@link PosternStack.httpsService}. */
export interface HttpsServiceOptions {
  appPort: number;
  /** Reach the app through the connector's tunnel (a `via` pool) rather than from the edge. */
  via: boolean;
  /** PEM certificate and key the virtual server presents. */
  certificate: { cert: string; key: string };
}

/** A running edge alone: its process, admin API and tunnel address. */
export interface PosternEdge {
  readonly edge: SpawnedProcess;
  readonly api: AdminApi;
  /** host:port of the tunnel listener. */
  readonly tunnel: string;
}

function nodeArgs(role: string, cpuProfDir: string | undefined): string[] {
  if (cpuProfDir === undefined) return [];
  return ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${role}.cpuprofile`];
}

/** The admin API with the edge's bearer token; throws with the API's answer on a non-2xx status. */
function adminApi(baseUrl: string, token: string) {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      signal: AbortSignal.timeout(10_000),
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`admin API ${method} ${path}: ${response.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
}

/** Calls the edge's admin API: `api(method, path, body?)`, path below /api/v1. */
export type AdminApi = ReturnType<typeof adminApi>;
type Api = AdminApi;

/**
 * Starts `postern edge` alone (tunnel and admin API on free loopback ports, log level warn)
 * and resolves once it printed its ready line.
 */
export async function startEdge(
  children: Children,
  options: PosternStackOptions,
): Promise<PosternEdge> {
  const dataDir = join(options.dir, 'edge');
  const edge = children.spawn(
    'edge',
    process.execPath,
    [
      ...nodeArgs('edge', options.cpuProfDir),
      cli,
      'edge',
      '--data-dir',
      dataDir,
      '--tunnel-listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      ...(options.configDir === undefined ? [] : ['--config-dir', options.configDir]),
    ],
    { POSTERN_LOG_LEVEL: 'warn' },
  );
  // At level warn the 'edge started' log line is silent; the CLI's plain ready line is not.
  const ready = await edge.waitFor((l) => l.text.startsWith('postern edge ready:'), {
    timeoutMs: startTimeoutMs,
    what: 'the edge ready line',
  });
  const adminUrl = /admin (http:\/\/\S+)/.exec(ready.text)?.[1];
  const tunnel = /tunnel ([\d.]+:\d+)/.exec(ready.text)?.[1];
  if (adminUrl === undefined || tunnel === undefined) {
    throw new Error(`no tunnel or admin address in "${ready.text}"`);
  }
  const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  return { edge, api: adminApi(adminUrl, token), tunnel };
}

/** Polls the admin API until a connector of the group shows as connected. */
async function waitConnected(api: Api, connector: SpawnedProcess): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (connector.hasExited) throw new Error(`the connector exited\n${connector.tail()}`);
    const { items } = await api<{ items: { status: string }[] }>(
      'GET',
      `/connectors?group=${group}`,
    );
    if (items.some((c) => c.status === 'connected')) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the connector's tunnel was not up within ${startTimeoutMs} ms\n${connector.tail()}`,
  );
}

/**
 * Starts the edge (tunnel and admin API on free loopback ports), creates a connector group
 * and a provisioning key, starts a connector with it and waits until its tunnel is up. Both
 * log at level warn, so that per-session log lines stay off the measured path.
 */
export async function startPostern(
  children: Children,
  options: PosternStackOptions,
): Promise<PosternStack> {
  const { edge, api, tunnel } = await startEdge(children, options);
  await api('POST', '/connector-groups', { name: group });
  const key = await api<{ value: string }>('POST', '/provisioning-keys', { group });
  const connector = children.spawn(
    'connector',
    process.execPath,
    [
      ...nodeArgs('connector', options.cpuProfDir),
      cli,
      'connector',
      '--provision-key',
      key.value,
      '--state-dir',
      join(options.dir, 'connector'),
      '--drain-timeout',
      '1',
    ],
    { POSTERN_LOG_LEVEL: 'warn' },
  );
  await waitConnected(api, connector);
  return {
    edge,
    connector,
    tunnelCipher: () => negotiatedCipher(tunnel),
    async tcpService(name, appPort) {
      await api('POST', '/pools', {
        name,
        via: group,
        nodes: [{ address: `127.0.0.1:${appPort}` }],
      });
      const port = await freePort();
      await api('POST', '/virtual-servers', {
        name,
        protocol: 'tcp',
        listen: `127.0.0.1:${port}`,
        pool: name,
      });
      return port;
    },
    async httpsService(name, o) {
      await api('POST', '/certificates', { name, ...o.certificate });
      await api('POST', '/pools', {
        name,
        ...(o.via ? { via: group } : {}),
        nodes: [{ address: `127.0.0.1:${o.appPort}` }],
      });
      const port = await freePort();
      await api('POST', '/virtual-servers', {
        name,
        protocol: 'https',
        listen: `127.0.0.1:${port}`,
        pool: name,
        tls: { certificates: [name] },
      });
      return port;
    },
  };
}

/**
 * Completes a TLS handshake with `host:port` without a client certificate and reports what
 * was negotiated (in TLS 1.3 the client finishes before the server checks its certificate).
 */
export function negotiatedCipher(address: string): Promise<string> {
  const [host = '127.0.0.1', port = '0'] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port), rejectUnauthorized: false });
    socket.setTimeout(5_000, () =>
      socket.destroy(new Error(`no TLS handshake with ${address} in 5 s`)),
    );
    socket.once('secureConnect', () => {
      resolve(`${socket.getProtocol() ?? '?'} ${socket.getCipher().standardName}`);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
