import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mustRun } from './run-command.js';
import { SiteNetwork, requireNamespaceSupport } from './site-network.js';
import { SpawnedProcess } from './spawned-process.js';
import type { EchoResult } from './tcp-client.js';

/** The built CLI (dist/src/cli/main.js), seen from dist/test/e2e/support/. */
export const CLI = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

const script = (name: string): string => fileURLToPath(new URL(`./${name}.js`, import.meta.url));

/** Ports inside the namespaces: every run has namespaces of its own, so fixed ports never collide. */
const PORTS = { tunnel: 8443, admin: 9090, virtualServer: 7000, app: 8080 } as const;
const START_TIMEOUT_MS = 15_000;
const COMMAND_TIMEOUT_MS = 15_000;

/** A connector process and the id it enrolled under. */
export interface ConnectorHandle {
  readonly process: SpawnedProcess;
  readonly connectorId: string;
}

/** The end of one edge session, as the edge logs it ('session ended'). */
export interface SessionRecord {
  readonly client: string;
  readonly connectorId?: string;
  readonly closeReason: string;
}

/**
 * The processes of the end-to-end test, each run with the built CLI inside the namespaces of a
 * SiteNetwork: the private app and the connectors in `site`, the edge, CLI calls and clients in
 * `edge`. The test process itself stays in the root namespace and talks to nothing directly.
 */
export class SiteLab {
  readonly net: SiteNetwork;
  readonly dir: string;
  readonly #processes: SpawnedProcess[] = [];
  #edge: SpawnedProcess | undefined;
  #token = '';

  private constructor(net: SiteNetwork, dir: string) {
    this.net = net;
    this.dir = dir;
  }

  /** Checks for root and `ip`, then creates the namespaces and a temporary directory. */
  static async create(): Promise<SiteLab> {
    await requireNamespaceSupport();
    const dir = await mkdtemp(join(tmpdir(), 'postern-e2e-'));
    try {
      return new SiteLab(await SiteNetwork.create(), dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The private app, reachable only inside the site namespace. */
  get appAddress(): string {
    return `${this.net.appIp}:${PORTS.app}`;
  }

  /** The TCP virtual server, on the edge namespace's loopback. */
  get virtualServer(): string {
    return `127.0.0.1:${PORTS.virtualServer}`;
  }

  get edge(): SpawnedProcess {
    if (!this.#edge) throw new Error('the edge was not started');
    return this.#edge;
  }

  /** Starts the echo app in the site namespace and waits until it listens. */
  async startApp(): Promise<SpawnedProcess> {
    const app = this.#spawn(this.net.siteNs, 'app', [script('echo-server'), this.appAddress]);
    await app.waitFor((l) => l.json?.listening === this.appAddress, {
      timeoutMs: START_TIMEOUT_MS,
      what: 'the app listening',
    });
    return app;
  }

  /** Starts `postern edge` in the edge namespace (tunnel on the veth address). */
  async startEdge(): Promise<SpawnedProcess> {
    const dataDir = join(this.dir, 'edge');
    this.#edge = this.#spawn(this.net.edgeNs, 'edge', [
      CLI,
      'edge',
      '--data-dir',
      dataDir,
      '--tunnel-listen',
      `${this.net.edgeIp}:${PORTS.tunnel}`,
      '--admin-listen',
      `127.0.0.1:${PORTS.admin}`,
    ]);
    await this.#edge.waitForLog('edge started', { timeoutMs: START_TIMEOUT_MS });
    this.#token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
    return this.#edge;
  }

  /** Spawns `postern connector` in the site namespace without waiting for anything. */
  spawnConnector(
    name: string,
    options: { stateDir: string; provisionKey?: string },
  ): SpawnedProcess {
    const args = [CLI, 'connector', '--state-dir', join(this.dir, options.stateDir)];
    if (options.provisionKey !== undefined) args.push('--provision-key', options.provisionKey);
    return this.#spawn(this.net.siteNs, name, args);
  }

  /** Starts `postern connector` in the site namespace and waits for its tunnel. */
  async startConnector(
    name: string,
    options: { stateDir: string; provisionKey?: string },
  ): Promise<ConnectorHandle> {
    const proc = this.spawnConnector(name, options);
    const ready = await proc.waitForLog('connector identity ready', {
      timeoutMs: START_TIMEOUT_MS,
    });
    await proc.waitForLog('tunnel up', { timeoutMs: START_TIMEOUT_MS });
    return { process: proc, connectorId: String(ready.connector) };
  }

  /** Runs an admin command of the CLI (`postern <args> --admin … --data-dir …`); returns stdout. */
  cli(args: readonly string[]): Promise<string> {
    const admin = [
      '--admin',
      `http://127.0.0.1:${PORTS.admin}`,
      '--data-dir',
      join(this.dir, 'edge'),
    ];
    return this.#runIn(this.net.edgeNs, [CLI, ...args, ...admin], COMMAND_TIMEOUT_MS);
  }

  /** Calls the admin API from inside the edge namespace. */
  async api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const args = [script('admin-request'), method, `http://127.0.0.1:${PORTS.admin}/api/v1${path}`];
    if (body !== undefined) args.push(JSON.stringify(body));
    const out = await this.#runIn(this.net.edgeNs, args, COMMAND_TIMEOUT_MS, {
      POSTERN_ADMIN_TOKEN: this.#token,
    });
    return JSON.parse(out) as { status: number; body: T };
  }

  /** Runs the TCP client in a namespace (`probe` or `echo` mode) and returns its JSON answer. */
  async client<T>(ns: string, args: readonly string[], timeoutMs: number): Promise<T> {
    const out = await this.#runIn(ns, [script('tcp-client'), ...args], timeoutMs);
    return JSON.parse(out) as T;
  }

  /** Opens `count` checked connections to the virtual server and keeps them until released. */
  async hold(count: number): Promise<{ ready: EchoResult[]; release: () => Promise<boolean> }> {
    const client = this.#spawn(this.net.edgeNs, 'hold-client', [
      script('tcp-client'),
      'hold',
      this.virtualServer,
      String(count),
      '10000',
    ]);
    const line = await client.waitFor((l) => Array.isArray(l.json?.ready), {
      timeoutMs: START_TIMEOUT_MS,
      what: 'the held connections',
    });
    const release = async (): Promise<boolean> => {
      client.child.stdin?.end();
      await client.waitFor((l) => l.json?.closed !== undefined, {
        timeoutMs: 5_000,
        what: 'closing',
      });
      return client.stop('SIGKILL', 5_000);
    };
    return { ready: line.json?.ready as EchoResult[], release };
  }

  /** Waits until the edge logged the end of the sessions of these client ports. */
  async sessionRecords(ports: readonly number[], timeoutMs = 5_000): Promise<SessionRecord[]> {
    const deadline = Date.now() + timeoutMs;
    const records: SessionRecord[] = [];
    for (const port of ports) {
      const entry = await this.edge.waitForLog('session ended', {
        timeoutMs: Math.max(deadline - Date.now(), 1),
        where: (e) => (e.session as SessionRecord | undefined)?.client === `127.0.0.1:${port}`,
      });
      records.push(entry.session as SessionRecord);
    }
    return records;
  }

  /** Recent output of every process, for failure messages. */
  tails(): string {
    return this.#processes.map((p) => p.tail(12)).join('\n');
  }

  /** Kills every process, deletes the namespaces and the directory; throws on leftovers. */
  async close(): Promise<void> {
    const problems: string[] = [];
    for (const p of this.#processes) {
      if (!(await p.stop('SIGKILL', 5_000)))
        problems.push(`${p.name} (pid ${p.child.pid}) did not exit`);
    }
    problems.push(...(await this.net.destroy()));
    await rm(this.dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`cleanup left things behind:\n${problems.join('\n')}`);
  }

  #spawn(ns: string, name: string, args: readonly string[]): SpawnedProcess {
    const p = new SpawnedProcess(name, 'ip', ['netns', 'exec', ns, process.execPath, ...args]);
    this.#processes.push(p);
    return p;
  }

  #runIn(
    ns: string,
    args: readonly string[],
    timeoutMs: number,
    env: NodeJS.ProcessEnv = {},
  ): Promise<string> {
    return mustRun('ip', ['netns', 'exec', ns, process.execPath, ...args], { timeoutMs, env });
  }
}
