import type { Logger } from 'pino';
import {
  validateConfiguration,
  type Configuration,
  type Pool as PoolConfig,
  type ReferenceOptions,
} from '../config/index.js';
import { systemClock, type Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import {
  API_COLLECTIONS,
  apiPathOf,
  collectionOfKind,
  type VirtualServerStatus,
} from '../control/index.js';
import { Pool, type Dialer, type PoolEvent, type PoolStatus } from '../traffic/index.js';
import { mergeSources } from './configuration-sources.js';
import { connectorConfigFor, type ConnectorConfig } from './group-config.js';
import { RemoteReports, type RemoteReport, type Reporter } from './remote-reports.js';
import { ParkedServers, type ParkingRound } from './parked-servers.js';
import {
  VirtualServerSet,
  failedVirtualServer,
  type Built,
  type BuildContext,
  type SessionHooks,
} from './virtual-server-set.js';

/** One immutable generation of the running configuration. */
interface Generation {
  readonly number: number;
  readonly config: Configuration;
  /** Owner (`api` or `document:<file>`) by `<kind>/<name>`. */
  readonly owners: ReadonlyMap<string, string>;
  readonly pools: ReadonlyMap<string, Pool>;
}

/** How the runtime is built. */
export interface EdgeRuntimeOptions {
  readonly store: Store;
  readonly dialer: Dialer;
  readonly logger: Logger;
  readonly hooks: SessionHooks;
  readonly clock?: Clock | undefined;
  /** Pool events (health, panic, discovery) for logs, metrics and connector config pushes. */
  readonly onPoolEvent?: ((event: PoolEvent) => void) | undefined;
  /** The access gate of each https virtual server (browser access); default none. */
  readonly gateFor?: BuildContext['gateFor'];
  /** Drain bound for virtual servers that are removed or moved. Default 30 s. */
  readonly drainTimeoutMs?: number | undefined;
  /** Secret keying persistence cookies, the same on every edge of an HA set; default none. */
  readonly persistenceKey?: Uint8Array | undefined;
  /** Told each new generation once it is in force (log receivers follow it). */
  readonly onApplied?: ((config: Configuration) => void) | undefined;
}

/**
 * Names objects in problems of the merged check: one created through the API by its admin
 * API path, and a missing name by the document that defined it in the generation in force.
 */
function originsOf(
  owners: ReadonlyMap<string, string>,
  previous: ReadonlyMap<string, string>,
): NonNullable<ReferenceOptions['origins']> {
  const kindOf = (collection: string): string | undefined =>
    (API_COLLECTIONS as Record<string, string>)[collection];
  return {
    apiPath: (collection, name) =>
      owners.get(`${kindOf(collection)}/${name}`) === 'api'
        ? apiPathOf(collection, name)
        : undefined,
    former: (collection, name) => {
      const owner = previous.get(`${kindOf(collection)}/${name}`);
      if (owner === 'api') return { api: apiPathOf(collection, name) };
      return owner?.startsWith('document:') === true
        ? { file: owner.slice('document:'.length) }
        : undefined;
    },
  };
}

const EMPTY: Generation = {
  number: 0,
  config: {
    version: 1,
    connector_groups: [],
    monitors: [],
    certificates: [],
    rules: [],
    pools: [],
    virtual_servers: [],
  } as unknown as Configuration,
  owners: new Map(),
  pools: new Map(),
};

/**
 * Turns configuration (documents from the importer plus objects created through the API) into
 * running pools and virtual servers. Each reload validates the whole, builds a new generation
 * and swaps it in by one reference. Pools carry their runtime state (health, counters,
 * persistence) over by name; listeners whose protocol and address did not change are never
 * re-bound; sessions in flight finish on the generation they started on. A reload that fails
 * changes nothing.
 */
export class EdgeRuntime {
  readonly #o: EdgeRuntimeOptions;
  readonly #servers: VirtualServerSet;
  readonly #reports: RemoteReports;
  readonly #parked = new ParkedServers();
  #documents: Configuration | undefined;
  #generation: Generation = EMPTY;
  #queue: Promise<void> = Promise.resolve();

  constructor(options: EdgeRuntimeOptions) {
    this.#o = options;
    this.#servers = new VirtualServerSet({ drainTimeoutMs: options.drainTimeoutMs ?? 30_000 });
    this.#reports = new RemoteReports({
      logger: options.logger,
      clock: options.clock ?? systemClock,
    });
  }

  /** The generation number in force. */
  get generation(): number {
    return this.#generation.number;
  }

  /** The configuration in force. */
  get config(): Configuration {
    return this.#generation.config;
  }

  /** Running virtual servers by name (their bound addresses). */
  listeners(): { name: string; host: string; port: number }[] {
    return this.#servers.listeners();
  }

  /**
   * Rebuilds from the store, and from `documents` when given (the importer's new generation),
   * else from the documents in force. Calls run one after another.
   */
  reload(options: { documents?: Configuration } = {}): Promise<void> {
    const next = this.#queue.then(() => this.#reload(options.documents));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Who owns an object: `api`, `document:<file>`, or undefined when it does not exist. */
  ownerOf(kind: string, name: string): string | undefined {
    return this.#generation.owners.get(`${kind}/${name}`);
  }

  /** Objects of a kind that come from documents, with their owner (for the admin API). */
  documentObjects(kind: string): { spec: object; owner: string }[] {
    const collection = collectionOfKind(kind);
    if (!collection) return [];
    return (this.#generation.config[collection] as readonly { name: string }[])
      .map((spec) => ({ spec, owner: this.ownerOf(kind, spec.name) ?? 'api' }))
      .filter((o) => o.owner !== 'api');
  }

  /**
   * Live status of a pool (nodes, health, panic), or undefined. For a `via` pool with discovery,
   * `discovery` is what its connectors reported (`runsOn: connector`).
   */
  poolStatus(name: string): PoolStatus | undefined {
    const status = this.#generation.pools.get(name)?.status();
    const spec = this.#poolSpec(name);
    const remote = spec && this.#reports.discoveryStatus(spec);
    return status && remote ? { ...status, discovery: remote } : status;
  }

  /**
   * Whether a virtual server in force listens: not when disabled, nor when it is an API server
   * that could not bind its address (the edge runs without it and tries again on every
   * reload); undefined when no such server is in force.
   */
  virtualServerStatus(name: string): VirtualServerStatus | undefined {
    const vs = this.#generation.config.virtual_servers.find((v) => v.name === name);
    if (vs === undefined) return undefined;
    if (!vs.enabled) return { listening: false, disabled: true };
    const parked = this.#parked.get(name);
    if (parked === undefined) return { listening: true };
    return {
      listening: false,
      error: { code: parked.code, message: parked.message },
      since: parked.since,
    };
  }

  /** The connector group a pool is reached through, if it exists and has one. */
  groupOf(pool: string): string | undefined {
    return this.#generation.pools.get(pool)?.via;
  }

  /**
   * What a group's connectors are told in `config`: the destinations they may dial (the nodes,
   * configured and discovered, of the group's pools), and the health checks and DNS discovery
   * they run for those pools.
   */
  configFor(group: string): ConnectorConfig {
    return connectorConfigFor(group, this.#generation);
  }

  /**
   * Applies a connector's health or discovery report to the pool it names (only a pool of the
   * connector's own group); returns false when it was refused.
   */
  applyReport(reporter: Reporter, report: RemoteReport): boolean {
    return this.#reports.apply(reporter, report, {
      pool: this.#generation.pools.get(report.pool),
      spec: this.#poolSpec(report.pool),
    });
  }

  /** Stops every virtual server (sessions drain for `drainTimeoutMs`) and every pool. */
  async close(drainTimeoutMs = 5000): Promise<void> {
    await this.#queue;
    await this.#servers.close(drainTimeoutMs);
    for (const pool of this.#generation.pools.values()) pool.close();
  }

  async #reload(documents: Configuration | undefined): Promise<void> {
    const { store, logger } = this.#o;
    const [groups, objects] = await Promise.all([store.groups.list(), store.objects.list()]);
    const merged = mergeSources(documents ?? this.#documents, groups, objects);
    if (merged.shadowed.length > 0) {
      logger.warn(
        { objects: merged.shadowed },
        'API objects hidden by documents that define the same names',
      );
    }
    const previous = this.#generation;
    const config = validateConfiguration(merged.config, {
      origins: originsOf(merged.owners, previous.owners),
    });
    const pools = this.#buildPools(config, previous);
    const fresh = [...pools.values()];
    const parking = this.#parked.round({
      config,
      owners: merged.owners,
      starting: previous.number === 0,
      now: (this.#o.clock ?? systemClock).now(),
    });
    try {
      const built = this.#servers.build({
        config,
        pools,
        dialer: this.#o.dialer,
        logger,
        hooks: this.#o.hooks,
        gateFor: this.#o.gateFor,
      });
      await this.#applyParking(built, parking);
    } catch (err) {
      // A failed apply leaves every server on the previous generation's pools, so the fresh
      // ones (never started) serve nothing; the previous pools keep running untouched.
      for (const pool of fresh) pool.close();
      throw err;
    }
    parking.commit();
    for (const name of parking.newlyParked()) {
      logger.error(
        { virtualServer: name, err: this.#parked.get(name)?.message },
        'virtual server cannot listen; the edge runs without it and tries again on every configuration change (change its listen with PATCH /api/v1/virtual-servers/<name>, or free the address)',
      );
    }
    for (const pool of fresh) pool.start();
    for (const pool of previous.pools.values()) pool.close();
    if (documents) this.#documents = documents;
    this.#generation = { number: previous.number + 1, config, owners: merged.owners, pools };
    this.#reports.retain(new Set(pools.keys()));
    this.#o.onApplied?.(config);
    logger.info(
      {
        generation: this.#generation.number,
        virtualServers: config.virtual_servers.length,
        pools: pools.size,
      },
      'configuration applied',
    );
  }

  /**
   * Applies `built` (this reload's own map, from build); a server the round may park (see
   * {@link ParkedServers}) is taken out of it when it cannot bind, and the rest applied again.
   * Any other failure refuses the reload.
   */
  async #applyParking(built: Map<string, Built>, parking: ParkingRound): Promise<void> {
    for (;;) {
      try {
        await this.#servers.apply(built);
        return;
      } catch (err) {
        const name = failedVirtualServer(err);
        if (name === undefined || !built.has(name) || !parking.park(name, err)) throw err;
        built.delete(name);
      }
    }
  }

  #buildPools(config: Configuration, previous: Generation): Map<string, Pool> {
    const pools = new Map<string, Pool>();
    try {
      for (const p of config.pools as readonly PoolConfig[]) {
        pools.set(
          p.name,
          Pool.fromConfig(p, {
            monitors: config.monitors,
            dialer: this.#o.dialer,
            // Nodes of `via` pools live in a private network: its connectors check and find them.
            monitorsRunRemotely: p.via !== undefined,
            discoveryRunsRemotely: p.via !== undefined,
            previous: previous.pools.get(p.name),
            clock: this.#o.clock ?? systemClock,
            onEvent: this.#o.onPoolEvent,
            persistenceKey: this.#o.persistenceKey,
          }),
        );
      }
    } catch (err) {
      for (const pool of pools.values()) pool.close();
      throw err;
    }
    return pools;
  }

  #poolSpec(name: string): PoolConfig | undefined {
    return (this.#generation.config.pools as readonly PoolConfig[]).find((p) => p.name === name);
  }
}
