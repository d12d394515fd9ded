import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { ConnectorRegistry, ConnectorTunnel } from './connector-registry.js';

/** How an edge records its connector tunnels in the shared store. */
export interface TunnelRecordsOptions {
  /** This edge's server id: the edge the rows name. */
  readonly serverId: string;
  /** Wait before rewriting every row after a failed write, in ms; default 5000. */
  readonly retryMs?: number | undefined;
  readonly clock?: Clock | undefined;
  readonly logger: Logger;
}

/**
 * Keeps the store's record of this edge's connector tunnels (`store.tunnels`) in step with the
 * registry, so the admin API of every edge of an HA set lists every edge holding a connector.
 * Writes run one at a time in event order, so a replaced tunnel's down never lands after its
 * successor's up. A failed write is repaired by rewriting all rows after `retryMs`.
 */
export class TunnelRecords {
  readonly #store: Store;
  readonly #registry: ConnectorRegistry;
  readonly #o: TunnelRecordsOptions;
  readonly #clock: Clock;
  #chain: Promise<void> = Promise.resolve();
  #retry: TimerHandle | undefined;
  #stopped = false;
  readonly #onAdded = (t: ConnectorTunnel): void => {
    this.#enqueue(() =>
      this.#store.tunnels.up({
        connectorId: t.connectorId,
        serverId: this.#o.serverId,
        remoteAddress: t.remoteAddress,
        since: t.connectedAt,
      }),
    );
  };
  readonly #onRemoved = (t: ConnectorTunnel): void => {
    this.#enqueue(async () => {
      await this.#store.tunnels.down(t.connectorId, this.#o.serverId);
    });
  };

  constructor(store: Store, registry: ConnectorRegistry, options: TunnelRecordsOptions) {
    this.#store = store;
    this.#registry = registry;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Replaces this server id's rows (a previous process with the same id may have left some)
   * with the tunnels held now, then follows the registry. A failed write is logged and retried.
   */
  async start(): Promise<void> {
    this.#registry.on('added', this.#onAdded);
    this.#registry.on('removed', this.#onRemoved);
    this.#enqueue(() => this.#rewrite());
    await this.#chain;
  }

  /** Resolves once every write queued so far has run (or failed and been logged). */
  idle(): Promise<void> {
    return this.#chain;
  }

  /** Stops following and removes this edge's rows (clean shutdown); failures are logged. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#retry) this.#clock.clearTimeout(this.#retry);
    this.#registry.off('added', this.#onAdded);
    this.#registry.off('removed', this.#onRemoved);
    await this.#chain;
    try {
      await this.#store.tunnels.releaseEdge(this.#o.serverId);
    } catch (err) {
      // The lease is released too, so the rows are not listed anyway.
      this.#o.logger.warn({ err }, 'could not remove the connector tunnel records');
    }
  }

  async #rewrite(): Promise<void> {
    await this.#store.tunnels.releaseEdge(this.#o.serverId);
    for (const t of this.#registry.list()) {
      await this.#store.tunnels.up({
        connectorId: t.connectorId,
        serverId: this.#o.serverId,
        remoteAddress: t.remoteAddress,
        since: t.connectedAt,
      });
    }
  }

  #enqueue(write: () => Promise<void>): void {
    this.#chain = this.#chain.then(write).catch((err: unknown) => {
      this.#o.logger.warn({ err }, 'could not record a connector tunnel in the store');
      this.#scheduleRetry();
    });
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#retry) return;
    this.#retry = this.#clock.setTimeout(() => {
      this.#retry = undefined;
      if (!this.#stopped) this.#enqueue(() => this.#rewrite());
    }, this.#o.retryMs ?? 5000);
    this.#retry.unref?.();
  }
}
