import type { Logger } from 'pino';
import {
  validateConfiguration,
  type Configuration,
  type Pool as PoolConfig,
  type VirtualServer as VirtualServerConfig,
} from '../config/index.js';
import type { TargetRule } from '../protocol/index.js';
import type { Store } from '../store/index.js';
import { edgeErrors } from './errors.js';
import {
  Pool,
  TcpVirtualServer,
  splitHostPort,
  type Dialer,
  type TcpSessionRecord,
} from '../traffic/index.js';

/** One immutable generation of the running configuration. */
interface Generation {
  readonly number: number;
  readonly config: Configuration;
  readonly pools: ReadonlyMap<string, Pool>;
}

/**
 * Turns the stored configuration into running pools and virtual servers. Each reload builds
 * a new generation and swaps it in by one reference; a virtual server whose listen address did
 * not change keeps its socket, sessions in flight keep the pool they started with.
 */
export class EdgeRuntime {
  readonly #store: Store;
  readonly #dialer: Dialer;
  readonly #log: Logger;
  readonly #onSessionEnd: (record: TcpSessionRecord) => void;
  readonly #servers = new Map<string, { server: TcpVirtualServer; listen: string }>();
  #generation: Generation = {
    number: 0,
    config: {
      version: 1,
      connector_groups: [],
      pools: [],
      virtual_servers: [],
    } as unknown as Configuration,
    pools: new Map(),
  };
  #reloading: Promise<void> = Promise.resolve();

  constructor(options: {
    store: Store;
    dialer: Dialer;
    logger: Logger;
    onSessionEnd: (r: TcpSessionRecord) => void;
  }) {
    this.#store = options.store;
    this.#dialer = options.dialer;
    this.#log = options.logger;
    this.#onSessionEnd = options.onSessionEnd;
  }

  /** The generation number in force. */
  get generation(): number {
    return this.#generation.number;
  }

  /** Running virtual servers by name (their bound addresses). */
  listeners(): { name: string; host: string; port: number }[] {
    return [...this.#servers.entries()].map(([name, { server }]) => ({
      name,
      ...server.address(),
    }));
  }

  /** Reloads from the store; concurrent calls run one after another. */
  reload(): Promise<void> {
    const next = this.#reloading.then(() => this.#reload());
    this.#reloading = next.catch(() => undefined);
    return next;
  }

  /** Destinations a group's connectors may dial: the nodes of the pools that go `via` it. */
  targetsFor(group: string): { generation: number; targets: TargetRule[] } {
    const targets: TargetRule[] = [];
    for (const pool of this.#generation.config.pools) {
      if (pool.via !== group) continue;
      for (const node of pool.nodes) {
        const hp = splitHostPort(node.address);
        if (hp) targets.push({ host: hp.host, ports: [hp.port, hp.port] });
      }
    }
    return { generation: this.#generation.number, targets };
  }

  /** Stops every virtual server, letting sessions drain for `drainTimeoutMs`. */
  async close(drainTimeoutMs = 5000): Promise<void> {
    await Promise.all(
      [...this.#servers.values()].map(({ server }) => server.close({ drainTimeoutMs })),
    );
    this.#servers.clear();
  }

  async #load(): Promise<Configuration> {
    const [groups, objects] = await Promise.all([
      this.#store.groups.list(),
      this.#store.objects.list(),
    ]);
    const specs = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.spec);
    return validateConfiguration({
      version: 1,
      connector_groups: groups.map((g) => ({ name: g.name })),
      pools: specs('pool'),
      virtual_servers: specs('virtual_server'),
    } as unknown as Configuration);
  }

  async #reload(): Promise<void> {
    const config = await this.#load();
    const pools = new Map<string, Pool>();
    for (const p of config.pools as readonly PoolConfig[]) {
      if (p.algorithm !== 'round_robin') {
        throw edgeErrors.unsupported(
          `Pool "${p.name}" with algorithm "${p.algorithm}"`,
          'Use algorithm: round_robin.',
        );
      }
      pools.set(p.name, buildPool(p));
    }
    const wanted = new Map<string, VirtualServerConfig>();
    for (const vs of config.virtual_servers as readonly VirtualServerConfig[]) {
      if (vs.protocol !== 'tcp') {
        throw edgeErrors.unsupported(
          `Virtual server "${vs.name}" with protocol "${vs.protocol}"`,
          'Use protocol: tcp.',
        );
      }
      if (vs.enabled) wanted.set(vs.name, vs);
    }
    const started: string[] = [];
    try {
      for (const [name, vs] of wanted) {
        const listen = vs.listen;
        const current = this.#servers.get(name);
        const options = this.#serverOptions(vs, pools.get(vs.pool)!);
        if (current && current.listen === listen) {
          current.server.reconfigure(options);
          continue;
        }
        if (current) {
          void current.server.close({ drainTimeoutMs: 30_000 });
          this.#servers.delete(name);
        }
        const server = new TcpVirtualServer(options);
        await server.start();
        this.#servers.set(name, { server, listen });
        started.push(name);
      }
    } catch (err) {
      for (const name of started) {
        void this.#servers.get(name)?.server.close({ drainTimeoutMs: 0 });
        this.#servers.delete(name);
      }
      throw err;
    }
    for (const [name, { server }] of this.#servers) {
      if (wanted.has(name)) continue;
      this.#servers.delete(name);
      void server.close({ drainTimeoutMs: 30_000 });
    }
    this.#generation = { number: this.#generation.number + 1, config, pools };
    this.#log.info(
      { generation: this.#generation.number, virtualServers: wanted.size, pools: pools.size },
      'configuration applied',
    );
  }

  #serverOptions(vs: VirtualServerConfig, pool: Pool) {
    const hp = splitHostPort(vs.listen, { allowZero: true })!;
    return {
      name: vs.name,
      listen: { host: hp.host, port: hp.port },
      pool,
      dialer: this.#dialer,
      connectTimeoutMs: vs.connect_timeout_ms,
      idleTimeoutMs: vs.idle_timeout_ms,
      onSessionEnd: this.#onSessionEnd,
    };
  }
}

function buildPool(p: PoolConfig): Pool {
  return new Pool({
    name: p.name,
    via: p.via,
    nodes: p.nodes.map((n) => ({ address: n.address, weight: n.weight, state: n.state })),
  });
}
