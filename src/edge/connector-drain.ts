import type { Logger } from 'pino';
import { makeMessage } from '../protocol/index.js';
import { systemClock, type Clock, type TimerHandle } from '../core/index.js';
import type { Store, StoreChange } from '../store/index.js';
import type { ConnectorRegistry, ConnectorTunnel } from './connector-registry.js';

/** The change-feed topic an edge announces on after an admin drained or undrained a connector. */
export const DRAIN_TOPIC = 'connector-drain';

/** How an edge follows the drains recorded in the store. */
export interface ConnectorDrainsOptions {
  /** This edge's server id: the origin of its announcements. */
  readonly serverId: string;
  /**
   * Fallback check of the stored drains, in ms; default 1000. It bounds how long another
   * edge's drain goes unnoticed here when its change notification is lost.
   */
  readonly pollMs?: number | undefined;
  readonly clock?: Clock | undefined;
  readonly logger: Logger;
}

/**
 * Makes an admin's drain (kept in the store, see `ConnectorRepository.setDraining`) hold on
 * every edge: tunnels of a drained connector take no new sessions here, including tunnels that
 * connect later. Learns of drains made through other edges from the change feed at once, and
 * from a check every `pollMs` should a notification be lost. Undrain lifts only the drains it
 * set: a connector that announced its own drain (it is stopping) stays draining.
 */
export class ConnectorDrains {
  readonly #store: Store;
  readonly #registry: ConnectorRegistry;
  readonly #o: ConnectorDrainsOptions;
  readonly #clock: Clock;
  #draining = new Set<string>();
  /** Tunnels this class marked draining (as opposed to those the connector drained itself). */
  readonly #ours = new WeakSet<ConnectorTunnel>();
  readonly #onAdded = (tunnel: ConnectorTunnel): void => this.#applyTo(tunnel);
  #unsubscribe: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #refreshing: Promise<void> | undefined;
  #again = false;
  /** Bumped by every local change, so a store read that raced it is not applied. */
  #epoch = 0;
  #stopped = false;

  constructor(store: Store, registry: ConnectorRegistry, options: ConnectorDrainsOptions) {
    this.#store = store;
    this.#registry = registry;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Reads the stored drains, applies them and starts following changes. */
  async start(): Promise<void> {
    this.#registry.on('added', this.#onAdded);
    this.#unsubscribe = this.#store.changes.subscribe((change) => this.#onChange(change));
    await this.refresh();
    this.#schedule();
  }

  /** Stops following; tunnels keep their current state. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#unsubscribe?.();
    this.#registry.off('added', this.#onAdded);
    await this.#refreshing;
  }

  /** Whether an admin has `connectorId` draining, as this edge last read it. */
  isDraining(connectorId: string): boolean {
    return this.#draining.has(connectorId);
  }

  /**
   * Applies a drain or undrain already written to the store on this edge at once and tells
   * the other edges; returns whether the connector has a tunnel to this edge.
   */
  changed(connectorId: string, draining: boolean): boolean {
    this.#epoch += 1;
    if (draining) this.#draining.add(connectorId);
    else this.#draining.delete(connectorId);
    const tunnel = this.#registry.get(connectorId);
    if (tunnel) this.#applyTo(tunnel);
    // A read in flight began before the write; the one after it sees it.
    if (this.#refreshing) void this.refresh();
    void this.#store.changes
      .publish({ topic: DRAIN_TOPIC, origin: this.#o.serverId })
      .catch((err: unknown) =>
        this.#o.logger.warn({ err: (err as Error).message }, 'could not announce a drain'),
      );
    return tunnel !== undefined;
  }

  /** Re-reads the stored drains and applies them to every tunnel; calls never overlap. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    const run = async (): Promise<void> => {
      do {
        this.#again = false;
        await this.#read();
      } while (this.#again && !this.#stopped);
    };
    this.#refreshing = run().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #read(): Promise<void> {
    try {
      const epoch = this.#epoch;
      const drained = await this.#store.connectors.list({ draining: true });
      if (epoch !== this.#epoch) return;
      this.#draining = new Set(drained.map((c) => c.id));
      for (const tunnel of this.#registry.list()) this.#applyTo(tunnel);
    } catch (err) {
      // The tunnels keep their state; the next notification or check tries again.
      this.#o.logger.warn({ err: (err as Error).message }, 'could not read connector drains');
    }
  }

  #applyTo(tunnel: ConnectorTunnel): void {
    const wanted = this.#draining.has(tunnel.connectorId);
    if (wanted && !tunnel.draining) {
      tunnel.draining = true;
      this.#ours.add(tunnel);
      // The connector learns why it gets no sessions (its own drain, when stopping, is the same).
      tunnel.control.send(makeMessage({ type: 'drain' }));
      this.#o.logger.info({ connector: tunnel.connectorId }, 'connector drained by an admin');
    } else if (!wanted && tunnel.draining && this.#ours.has(tunnel)) {
      tunnel.draining = false;
      this.#ours.delete(tunnel);
      // The connector reports ready again (its /readyz) and logs that sessions come back.
      tunnel.control.send(makeMessage({ type: 'undrain' }));
      this.#o.logger.info({ connector: tunnel.connectorId }, 'connector undrained by an admin');
    }
  }

  #onChange(change: StoreChange): void {
    if (this.#stopped || change.origin === this.#o.serverId) return;
    if (change.topic === DRAIN_TOPIC || change.topic === 'resync') void this.refresh();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(
      () => void this.refresh().finally(() => this.#schedule()),
      this.#o.pollMs ?? 1000,
    );
    this.#timer.unref?.();
  }
}
