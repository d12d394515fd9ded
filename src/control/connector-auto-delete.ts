import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/index.js';
import type { ConnectorRecord, JsonValue, Store } from '../store/index.js';
import { connectorView } from './api-views.js';
import type { AuditLog } from './audit.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How the auto-delete sweeper runs. */
export interface AutoDeleteOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Ids of the connectors holding a tunnel to this edge right now. */
  readonly connected: () => readonly string[];
  /** Where deletions are recorded (actor `system:auto-delete`). */
  readonly audit?: AuditLog | undefined;
  /** Time between sweeps; default one hour. */
  readonly intervalMs?: number | undefined;
}

/**
 * Deletes connectors of groups with `auto_delete_after_days` once they have been disconnected
 * longer than that (ZPA's auto delete): their record goes, an ephemeral one's key use is given
 * back, and each deletion is audited. Each sweep first marks this edge's live connectors as
 * seen, so in an HA set a connector connected to any edge is never taken for gone.
 */
export class ConnectorAutoDelete {
  readonly #o: AutoDeleteOptions;
  #timer: TimerHandle | undefined;
  #running: Promise<unknown> = Promise.resolve();
  #stopped = true;

  constructor(options: AutoDeleteOptions) {
    this.#o = options;
  }

  /** Starts sweeping every `intervalMs` (the first sweep after one interval). */
  start(): void {
    this.#stopped = false;
    this.#arm();
  }

  /** Stops sweeping and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One sweep now; returns the ids of the connectors it deleted. */
  async sweep(): Promise<string[]> {
    const { store, clock } = this.#o;
    const now = clock.now();
    const live = new Set(this.#o.connected());
    for (const id of live) {
      await store.connectors.update(id, { lastSeenAt: now }).catch(() => undefined);
    }
    const deleted: string[] = [];
    for (const group of await store.groups.list()) {
      if (group.autoDeleteAfterDays === undefined) continue;
      const limit = group.autoDeleteAfterDays * DAY_MS;
      for (const c of await store.connectors.list({ group: group.name })) {
        if (live.has(c.id) || now - (c.lastSeenAt ?? c.createdAt) <= limit) continue;
        if (await this.#delete(c, group.autoDeleteAfterDays)) deleted.push(c.id);
      }
    }
    return deleted;
  }

  async #delete(c: ConnectorRecord, days: number): Promise<boolean> {
    const { store, logger } = this.#o;
    try {
      await store.connectors.delete(c.id);
    } catch (err) {
      // Another edge of the HA set may have deleted it in the same sweep.
      logger.debug({ err, connector: c.id }, 'auto-delete skipped a connector');
      return false;
    }
    if (c.ephemeral) await store.provisioningKeys.release(c.keyId).catch(() => undefined);
    logger.info(
      { connector: c.id, group: c.group, lastSeenAt: c.lastSeenAt, days },
      'connector auto-deleted after staying disconnected',
    );
    await this.#o.audit?.record({
      actor: 'system:auto-delete',
      method: 'DELETE',
      path: `/api/v1/connectors/${c.id}`,
      kind: 'connector',
      name: c.id,
      before: JSON.parse(JSON.stringify(connectorView(c, undefined))) as JsonValue,
      outcome: 'success',
      status: 204,
    });
    return true;
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(
      () => {
        this.#running = this.sweep()
          .catch((err: unknown) =>
            this.#o.logger.warn({ err }, 'connector auto-delete sweep failed'),
          )
          .finally(() => this.#arm());
      },
      this.#o.intervalMs ?? 60 * 60 * 1000,
    );
    this.#timer.unref?.();
  }
}
