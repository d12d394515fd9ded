/**
 * The HA fault-tolerance lab: a real PostgreSQL, HAProxy (TCP mode) in front of N edges, each
 * edge in a network namespace of its own (so all of them can bind the same virtual-server
 * address, as separate hosts would), and connectors in the root namespace dialing HAProxy.
 *
 *   test process ── 127.0.0.1:<app>    ─┐            ┌─ ns ha-<id>-e1: postern edge (10.x.1.2)
 *   connectors   ── 127.0.0.1:<tunnel> ─┼─ HAProxy ──┼─ ns ha-<id>-e2: postern edge (10.x.2.2)
 *   edges        ── 10.x.i.1:<pg>      ─┘  (root)    └─ …   (PostgreSQL reached through HAProxy)
 */
import { writeFile, mkdtemp, rm, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../harness/harness.js';
import { startPostgres, type PostgresServer } from '../../support/postgres-server.js';
import { mustRun, runCommand } from './run-command.js';
import { SpawnedProcess } from './spawned-process.js';
import pg from 'pg';

/** The built CLI (dist/src/cli/main.js), seen from dist/test/e2e/support/. */
const CLI = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));
const HAPROXY = '/usr/sbin/haproxy';
const PORTS = { tunnel: 8443, admin: 9090 } as const;
const START_TIMEOUT_MS = 20_000;
const IP_TIMEOUT_MS = 5_000;
/** The admin token every edge shares (they share one store and one data directory). */
// At least 16 characters whatever the pid: the edge refuses shorter bootstrap tokens.
export const ADMIN_TOKEN = `pat_ha_lab_${String(process.pid).padStart(8, '0')}_e2e`;

/** Fast HA timing, so faults show within seconds. */
const HA_FLAGS = [
  '--lease-ttl',
  '3',
  '--config-poll',
  '1',
  '--keepalive-interval',
  '0.5',
  '--keepalive-timeout',
  '2',
];

/** One edge slot: its namespace, addresses and (while running) its process. */
export interface EdgeSlot {
  readonly index: number;
  readonly serverId: string;
  readonly ns: string;
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostIp: string;
  readonly edgeIp: string;
  process?: SpawnedProcess;
}

/** The lab: create() sets everything up, destroy() removes it all (processes, PG, netns). */
export class HaLab {
  readonly dir: string;
  readonly edges: EdgeSlot[];
  readonly ports: { tunnel: number; app: number; pg: number; vs: number };
  readonly #pg: PostgresServer;
  readonly #storeUrl: URL;
  readonly #processes: SpawnedProcess[] = [];
  readonly #namespaces: string[] = [];
  #haproxy: SpawnedProcess | undefined;

  private constructor(
    dir: string,
    pg: PostgresServer,
    storeUrl: string,
    count: number,
    ports: HaLab['ports'],
  ) {
    this.dir = dir;
    this.#pg = pg;
    this.#storeUrl = new URL(storeUrl);
    this.ports = ports;
    const id = process.pid;
    const net = 100 + (id % 100);
    this.edges = Array.from({ length: count }, (_, i) => ({
      index: i + 1,
      serverId: `edge-${i + 1}`,
      ns: `ha-${id}-e${i + 1}`,
      hostIf: `ha${id}h${i + 1}`.slice(0, 15),
      nsIf: `ha${id}n${i + 1}`.slice(0, 15),
      hostIp: `10.${net}.${i + 1}.1`,
      edgeIp: `10.${net}.${i + 1}.2`,
    }));
  }

  /** PostgreSQL, the namespaces and HAProxy; edges and connectors are started by the test. */
  static async create(count: number): Promise<HaLab> {
    if (process.getuid?.() !== 0)
      throw new Error('the HA lab needs root (ip netns); CI runs it as root');
    await removeStaleNamespaces();
    const dir = await mkdtemp(join(tmpdir(), 'postern-ha-'));
    const pg = await startPostgres();
    const ports = {
      tunnel: await freePort(),
      app: await freePort(),
      pg: await freePort(),
      vs: 7000,
    };
    const lab = new HaLab(dir, pg, await pg.createDatabase(), count, ports);
    try {
      for (const slot of lab.edges) await lab.#createNamespace(slot);
      await lab.#startHaproxy();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /** Server ids with a live lease, read straight from PostgreSQL. */
  async leases(): Promise<string[]> {
    const client = new pg.Client({ connectionString: this.#storeUrl.toString() });
    await client.connect();
    try {
      const result = await client.query<{ server_id: string }>(
        'select server_id from edge_leases where expires_at > $1 order by server_id',
        [Date.now()],
      );
      return result.rows.map((r) => r.server_id);
    } finally {
      await client.end();
    }
  }

  /**
   * Starts (or restarts) the edge of a slot (one process unless `workers` says otherwise) and
   * waits until it serves.
   */
  async startEdge(slot: EdgeSlot, workers = 1): Promise<SpawnedProcess> {
    const store = new URL(this.#storeUrl.toString());
    store.hostname = slot.hostIp;
    store.port = String(this.ports.pg);
    const proc = this.#spawn(
      slot.serverId,
      [
        'ip',
        'netns',
        'exec',
        slot.ns,
        process.execPath,
        CLI,
        'edge',
        '--data-dir',
        join(this.dir, 'edge-data'),
        '--store',
        store.toString(),
        '--tunnel-listen',
        `0.0.0.0:${PORTS.tunnel}`,
        '--advertise-address',
        `127.0.0.1:${this.ports.tunnel}`,
        '--admin-listen',
        `0.0.0.0:${PORTS.admin}`,
        '--server-id',
        slot.serverId,
        '--workers',
        String(workers),
        ...HA_FLAGS,
      ],
      { POSTERN_ADMIN_TOKEN: ADMIN_TOKEN, POSTERN_LOG_LEVEL: 'info' },
    );
    slot.process = proc;
    await proc.waitForLog('edge started', { timeoutMs: START_TIMEOUT_MS });
    return proc;
  }

  /** Starts a connector dialing HAProxy; waits for its identity and first tunnel. */
  async startConnector(name: string, provisionKey?: string): Promise<SpawnedProcess> {
    const args = [
      process.execPath,
      CLI,
      'connector',
      '--state-dir',
      join(this.dir, name),
      '--edge',
      `127.0.0.1:${this.ports.tunnel}`,
      '--sync-interval',
      '0.2',
      '--keepalive-interval',
      '0.5',
      '--keepalive-timeout',
      '2',
    ];
    if (provisionKey !== undefined) args.push('--provision-key', provisionKey);
    const proc = this.#spawn(name, args, { POSTERN_LOG_LEVEL: 'info' });
    await proc.waitForLog('tunnel up', { timeoutMs: START_TIMEOUT_MS });
    return proc;
  }

  /** Calls one edge's admin API. */
  async api<T>(
    slot: EdgeSlot,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(`http://${slot.edgeIp}:${PORTS.admin}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** Tunnels this edge holds (its /metrics), or -1 when it does not answer. */
  async tunnelCount(slot: EdgeSlot): Promise<number> {
    return (await this.metric(slot, 'postern_edge_tunnels').catch(() => undefined)) ?? -1;
  }

  /** A metric's value from one edge, or undefined. */
  async metric(slot: EdgeSlot, name: string): Promise<number | undefined> {
    const res = await fetch(`http://${slot.edgeIp}:${PORTS.admin}/metrics`, {
      signal: AbortSignal.timeout(2000),
    });
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(await res.text());
    return match ? Number(match[1]) : undefined;
  }

  /** The virtual server port of one edge, reached directly (not through HAProxy). */
  edgeVirtualServer(slot: EdgeSlot, port = this.ports.vs): { host: string; port: number } {
    return { host: slot.edgeIp, port };
  }

  /** Takes the edge's link down inside its namespace (a cut cable). */
  async cutLink(slot: EdgeSlot): Promise<void> {
    await ip(['-n', slot.ns, 'link', 'set', slot.nsIf, 'down']);
  }

  /** Removes everything the lab made; returns problems it could not fix. */
  async destroy(): Promise<void> {
    const problems: string[] = [];
    for (const p of this.#processes) {
      if (!(await p.stop('SIGKILL', 5000)))
        problems.push(`${p.name} (pid ${p.child.pid}) did not exit`);
    }
    for (const ns of this.#namespaces.splice(0)) {
      const result = await runCommand('ip', ['netns', 'del', ns], { timeoutMs: IP_TIMEOUT_MS });
      if (result.code !== 0) problems.push(`ip netns del ${ns}: ${result.stderr.trim()}`);
    }
    for (const slot of this.edges) {
      // The root-namespace end of a veth pair goes with its peer; delete it when it did not.
      await runCommand('ip', ['link', 'del', slot.hostIf], { timeoutMs: IP_TIMEOUT_MS });
    }
    await this.#pg.stop();
    await rm(this.dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`cleanup left things behind:\n${problems.join('\n')}`);
  }

  async #createNamespace(slot: EdgeSlot): Promise<void> {
    await ip(['netns', 'add', slot.ns]);
    this.#namespaces.push(slot.ns);
    await ip([
      'link',
      'add',
      slot.hostIf,
      'type',
      'veth',
      'peer',
      'name',
      slot.nsIf,
      'netns',
      slot.ns,
    ]);
    await ip(['addr', 'add', `${slot.hostIp}/24`, 'dev', slot.hostIf]);
    await ip(['link', 'set', slot.hostIf, 'up']);
    await ip(['-n', slot.ns, 'addr', 'add', `${slot.edgeIp}/24`, 'dev', slot.nsIf]);
    await ip(['-n', slot.ns, 'link', 'set', 'lo', 'up']);
    await ip(['-n', slot.ns, 'link', 'set', slot.nsIf, 'up']);
    await ip(['-n', slot.ns, 'route', 'add', 'default', 'via', slot.hostIp]);
  }

  async #startHaproxy(): Promise<void> {
    const servers = (port: number, check = '') =>
      this.edges
        .map(
          (e) => `  server ${e.serverId} ${e.edgeIp}:${port} check${check} inter 250 fall 2 rise 1`,
        )
        .join('\n');
    const config = [
      'global',
      '  maxconn 4000',
      'defaults',
      '  mode tcp',
      '  timeout connect 500ms',
      '  timeout client 120s',
      '  timeout server 120s',
      '  retries 3',
      '  option redispatch',
      'frontend tunnel',
      `  bind 127.0.0.1:${this.ports.tunnel}`,
      '  default_backend edge_tunnels',
      'backend edge_tunnels',
      '  balance roundrobin',
      servers(PORTS.tunnel),
      'frontend app',
      `  bind 127.0.0.1:${this.ports.app}`,
      '  default_backend edge_apps',
      'backend edge_apps',
      '  balance roundrobin',
      // Sessions go only to edges that hold a connector tunnel (see docs/errors.md, HA).
      '  option httpchk GET /readyz/tunnels',
      '  http-check expect status 200',
      servers(this.ports.vs, ` port ${PORTS.admin}`),
      'frontend store',
      ...this.edges.map((e) => `  bind ${e.hostIp}:${this.ports.pg}`),
      '  default_backend store',
      'backend store',
      `  server pg ${this.#pgAddress()}`,
      '',
    ].join('\n');
    const file = join(this.dir, 'haproxy.cfg');
    await writeFile(file, config);
    await mustRun(HAPROXY, ['-c', '-f', file], { timeoutMs: 10_000 });
    this.#haproxy = this.#spawn('haproxy', [HAPROXY, '-db', '-f', file], {});
    // Ready when the tunnel frontend accepts.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await runCommand(
        'bash',
        ['-c', `exec 3<>/dev/tcp/127.0.0.1/${this.ports.tunnel}`],
        { timeoutMs: 2000 },
      );
      if (ok.code === 0) return;
      if (Date.now() > deadline || this.#haproxy.hasExited)
        throw new Error(`haproxy did not start\n${this.#haproxy.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  #pgAddress(): string {
    return `${this.#storeUrl.hostname}:${this.#storeUrl.port}`;
  }

  #spawn(name: string, argv: readonly string[], env: NodeJS.ProcessEnv): SpawnedProcess {
    const [command, ...args] = argv;
    const p = new SpawnedProcess(name, command!, args, env);
    this.#processes.push(p);
    return p;
  }
}

/** Open file descriptors and resident memory of a process, from /proc. */
export async function processUsage(pid: number): Promise<{ fds: number; rssKiB: number }> {
  const fds = (await readdir(`/proc/${pid}/fd`)).length;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  return { fds, rssKiB };
}

function ip(args: readonly string[]): Promise<string> {
  return mustRun('ip', args, { timeoutMs: IP_TIMEOUT_MS });
}

/** Removes `ha-<pid>-e<n>` namespaces of test runs whose process is gone. */
async function removeStaleNamespaces(): Promise<void> {
  const listed = await runCommand('ip', ['netns', 'list'], { timeoutMs: IP_TIMEOUT_MS });
  for (const line of listed.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = /^ha-(\d+)-e\d+$/.exec(name);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    const pids = await runCommand('ip', ['netns', 'pids', name], { timeoutMs: IP_TIMEOUT_MS });
    for (const p of pids.stdout.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await runCommand('ip', ['netns', 'del', name], { timeoutMs: IP_TIMEOUT_MS });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
