/**
 * In-process test harness: real edge, real connectors, real private apps, all on 127.0.0.1
 * port 0, each with its own temporary directory.
 */
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { startEdge, type Edge, type EdgeOptions } from '../../src/edge/index.js';
import { Connector, type ConnectorOptions } from '../../src/connector/index.js';
import { openEmbeddedStore } from '../../src/store/index.js';
import { Backoff } from '../../src/core/index.js';

/** A logger for tests: silent unless POSTERN_TEST_LOG names a level. */
export function testLogger(): Logger {
  return pino({ level: process.env.POSTERN_TEST_LOG ?? 'silent' });
}

/** A temporary directory removed by the returned cleanup. */
export async function tempDir(prefix = 'postern-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A running test edge with an admin API helper. */
export interface TestEdge extends Edge {
  readonly dir: string;
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  /** Creates a provisioning key and returns its value. */
  createKey(group: string, extra?: Record<string, unknown>): Promise<{ id: string; value: string }>;
  /** Publishes `appAddress` through `group` on a new tcp virtual server; returns its port. */
  publish(name: string, group: string, appAddress: string): Promise<number>;
  /** Puts an http virtual server named `pool` on a free loopback port in front of the pool; returns its port. */
  httpFront(pool: string): Promise<number>;
  stop(): Promise<void>;
}

/** Starts an edge on loopback with an embedded store in a temporary directory. */
export async function startTestEdge(options: Partial<EdgeOptions> = {}): Promise<TestEdge> {
  const dir = options.dataDir ?? (await tempDir('postern-edge-'));
  const edge = await startEdge({
    dataDir: dir,
    openStore: () => openEmbeddedStore({ dataDir: dir }),
    tunnelListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    logger: testLogger(),
    keepAliveIntervalMs: 1000,
    keepAliveTimeoutMs: 5000,
    // Tests that stop an edge with sessions still open need not wait the 10 s default.
    drainTimeoutMs: 2000,
    ...options,
  });
  const api: TestEdge['api'] = async (method, path, body) => {
    const res = await fetch(`${edge.adminUrl}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${edge.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as never };
  };
  /** A virtual server named `pool` in front of it on a free loopback port; returns the port. */
  const virtualServer = async (pool: string, protocol: 'tcp' | 'http'): Promise<number> => {
    const port = await freePort();
    const vs = await api('POST', '/virtual-servers', {
      name: pool,
      protocol,
      listen: `127.0.0.1:${port}`,
      pool,
    });
    if (vs.status !== 201)
      throw new Error(`virtual server create failed: ${JSON.stringify(vs.body)}`);
    return port;
  };
  const ensureGroup = async (group: string) => {
    const existing = await api('GET', `/connector-groups/${group}`);
    if (existing.status === 404) await api('POST', '/connector-groups', { name: group });
  };
  return Object.assign({}, edge, {
    dir,
    api,
    async createKey(group: string, extra: Record<string, unknown> = {}) {
      await ensureGroup(group);
      const res = await api<{ id: string; value: string }>('POST', '/provisioning-keys', {
        group,
        ...extra,
      });
      if (res.status !== 201) throw new Error(`key create failed: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async publish(name: string, group: string, appAddress: string) {
      await ensureGroup(group);
      const pool = await api('POST', '/pools', {
        name,
        via: group,
        nodes: [{ address: appAddress }],
      });
      if (pool.status !== 201) throw new Error(`pool create failed: ${JSON.stringify(pool.body)}`);
      return virtualServer(name, 'tcp');
    },
    httpFront: (pool: string) => virtualServer(pool, 'http'),
    async stop() {
      await stopAllConnectors();
      await edge.close();
      if (!options.dataDir) await rm(dir, { recursive: true, force: true });
    },
  });
}

const running = new Set<Connector>();

/** Stops every connector a test started and left running (call from `after`). */
export async function stopAllConnectors(): Promise<void> {
  await Promise.all(
    [...running].map((c) => c.stop({ drainTimeoutMs: 100 }).catch(() => undefined)),
  );
  running.clear();
}

/** Ports freePort handed out lately in this process, oldest first. */
const recentPorts: number[] = [];
const RECENT_PORTS = 256;

/**
 * A free TCP port on 127.0.0.1 (bound and released; fine for tests on loopback). The kernel may
 * hand the port it just released to the next bind: a test that asks twice before binding either
 * would then get the same port twice, so a port handed out lately is not handed out again.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (recentPorts.includes(port) && attempt < 20) continue;
    recentPorts.push(port);
    if (recentPorts.length > RECENT_PORTS) recentPorts.shift();
    return port;
  }
}

/** Starts a connector (fast backoff) and waits for its tunnel unless `wait` is false. */
export async function startTestConnector(
  options: Partial<ConnectorOptions> & { wait?: boolean } = {},
): Promise<Connector & { dir: string }> {
  const dir = options.stateDir ?? (await tempDir('postern-connector-'));
  const { wait = true, ...rest } = options;
  const connector = new Connector({
    stateDir: dir,
    version: 'test',
    logger: testLogger(),
    backoff: new Backoff({ initialMs: 100, factor: 1.5, maxMs: 500 }),
    keepAliveIntervalMs: 1000,
    keepAliveTimeoutMs: 5000,
    ...rest,
  });
  await connector.start();
  running.add(connector);
  const stop = connector.stop.bind(connector);
  connector.stop = (o) => (running.delete(connector), stop(o));
  if (wait) await connector.waitConnected(10_000);
  return Object.assign(connector, { dir });
}

/** A private TCP echo app that also counts its connections. */
export async function startEchoServer(
  host = '127.0.0.1',
): Promise<{ address: string; port: number; accepted: () => number; close(): Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `${host}:${port}`,
    port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sends `payload`, half-closes, and resolves with everything the peer sent back. */
export function roundTrip(port: number, payload: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      clearTimeout(timer);
      socket.end();
      resolve(Buffer.concat(chunks));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.end(payload);
  });
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
  );
}
