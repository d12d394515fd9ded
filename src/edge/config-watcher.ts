import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../core/index.js';
import type { Store, StoreChange } from '../store/index.js';

/** The topic an edge announces on after it changed configuration in the store. */
export const CONFIG_TOPIC = 'config';
/** Prefix of the topic that asks every edge to cut a revoked connector's tunnels. */
export const DISCONNECT_TOPIC_PREFIX = 'disconnect:';

/** How configuration changes made through another edge reach this one. */
export interface ConfigWatcherOptions {
  readonly serverId: string;
  /** Rebuilds the running configuration from the store (and pushes it to connectors). */
  readonly reload: () => Promise<void>;
  /** Cuts a connector's tunnels on this edge (it was revoked through another edge). */
  readonly disconnect: (connectorId: string) => void;
  /** Fallback check for missed notifications; default 5 s. */
  readonly pollMs?: number | undefined;
  readonly clock?: Clock | undefined;
  readonly logger: Logger;
}

/**
 * Keeps an edge's configuration in step with the shared store: a change announced by another
 * edge (PostgreSQL NOTIFY) reloads at once; a periodic fingerprint of the stored configuration
 * catches anything a lost notification missed. Reloads never overlap; one that arrives during
 * another runs once after it.
 */
export class ConfigWatcher {
  readonly #store: Store;
  readonly #o: ConfigWatcherOptions;
  readonly #clock: Clock;
  #fingerprint = '';
  #timer: TimerHandle | undefined;
  #unsubscribe: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #pending = false;
  #stopped = false;

  constructor(store: Store, options: ConfigWatcherOptions) {
    this.#store = store;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Takes the current state as the baseline and starts listening and checking. */
  async start(): Promise<void> {
    this.#fingerprint = await this.#read().catch(() => '');
    this.#unsubscribe = this.#store.changes.subscribe((change) => this.#onChange(change));
    this.#schedule();
  }

  /** Stops listening; a reload in progress finishes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#unsubscribe?.();
    await this.#running;
  }

  /** Tells the other edges that this one changed the configuration (after its own reload). */
  async announce(): Promise<void> {
    this.#fingerprint = await this.#read().catch(() => this.#fingerprint);
    await this.#publish(CONFIG_TOPIC);
  }

  /** Tells the other edges to cut a revoked connector's tunnels. */
  announceDisconnect(connectorId: string): Promise<void> {
    return this.#publish(`${DISCONNECT_TOPIC_PREFIX}${connectorId}`);
  }

  #publish(topic: string): Promise<void> {
    return this.#store.changes
      .publish({ topic, origin: this.#o.serverId })
      .catch((err: unknown) =>
        this.#o.logger.warn({ err: (err as Error).message, topic }, 'could not announce a change'),
      );
  }

  #onChange(change: StoreChange): void {
    if (change.origin === this.#o.serverId || this.#stopped) return;
    if (change.topic.startsWith(DISCONNECT_TOPIC_PREFIX)) {
      this.#o.disconnect(change.topic.slice(DISCONNECT_TOPIC_PREFIX.length));
    } else if (change.topic === CONFIG_TOPIC || change.topic === 'resync') {
      this.#trigger();
    }
  }

  #trigger(): void {
    if (this.#running) {
      this.#pending = true;
      return;
    }
    this.#running = this.#reload().finally(() => {
      this.#running = undefined;
      if (this.#pending && !this.#stopped) {
        this.#pending = false;
        this.#trigger();
      }
    });
  }

  async #reload(): Promise<void> {
    try {
      const fingerprint = await this.#read();
      await this.#o.reload();
      this.#fingerprint = fingerprint;
    } catch (err) {
      // The running configuration stays; the next notification or check tries again.
      this.#o.logger.error(
        { err: (err as Error).message, code: (err as { code?: string }).code },
        'configuration change from the store could not be applied',
      );
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(
      () => void this.#check().finally(() => this.#schedule()),
      this.#o.pollMs ?? 5000,
    );
    this.#timer.unref?.();
  }

  async #check(): Promise<void> {
    try {
      if ((await this.#read()) !== this.#fingerprint) this.#trigger();
    } catch (err) {
      this.#o.logger.warn(
        { err: (err as Error).message },
        'could not check the stored configuration',
      );
    }
  }

  /** A digest of everything a reload reads from the store. */
  async #read(): Promise<string> {
    const [groups, objects] = await Promise.all([
      this.#store.groups.list(),
      this.#store.objects.list(),
    ]);
    return createHash('sha256').update(JSON.stringify({ groups, objects })).digest('hex');
  }
}
