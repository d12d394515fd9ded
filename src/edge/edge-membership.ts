import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { isPosternError, systemClock, type Clock, type TimerHandle } from '../core/index.js';
import type { EdgeLease, Store, StoreChange } from '../store/index.js';

/** What connectors are told about the HA set (the `welcome` and `edges` messages). */
export interface EdgeView {
  readonly serverId: string;
  readonly serverCount: number;
  readonly peers: readonly { readonly serverId: string; readonly address: string }[];
}

/** How an edge takes part in the HA set. */
export interface EdgeMembershipOptions {
  readonly serverId: string;
  /** The tunnel address this edge advertises. */
  readonly address: string;
  /** Lease lifetime without renewal; default 15 s (a crashed edge leaves the set after this). */
  readonly leaseTtlMs?: number | undefined;
  /** Renewal and re-read period; default a third of the TTL. */
  readonly renewMs?: number | undefined;
  readonly clock?: Clock | undefined;
  readonly logger: Logger;
}

interface MembershipEvents {
  /** The live set changed (ids or addresses). */
  change: [EdgeView];
}

/** The topic edges announce on when they join or leave. */
export const EDGES_TOPIC = 'edges';

/** A random server id: the host name plus a short random suffix, unique per process start. */
export function randomServerId(): string {
  return `${hostname()}-${randomBytes(3).toString('hex')}`;
}

/**
 * This edge's lease in the store and its view of the live set: renews the lease, re-reads the
 * live leases on every renewal and whenever another edge announces a join or leave, and
 * emits `change` when the set differs. A store outage keeps the last view (and logs it).
 */
export class EdgeMembership extends EventEmitter<MembershipEvents> {
  readonly #store: Store;
  readonly #o: EdgeMembershipOptions;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #instance = randomBytes(8).toString('hex');
  #view: EdgeView;
  #timer: TimerHandle | undefined;
  #unsubscribe: (() => void) | undefined;
  #stopped = false;
  #refreshing: Promise<void> | undefined;
  #again = false;

  constructor(store: Store, options: EdgeMembershipOptions) {
    super();
    this.#store = store;
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#ttlMs = options.leaseTtlMs ?? 15_000;
    this.#view = {
      serverId: options.serverId,
      serverCount: 1,
      peers: [{ serverId: options.serverId, address: options.address }],
    };
  }

  /** The current view of the set (always includes this edge). */
  get view(): EdgeView {
    return this.#view;
  }

  /**
   * Takes the lease, then joins. A lease on this id held by another instance may be a crashed
   * predecessor (a restarted pod keeps its id): wait up to one TTL for it to expire, then fail
   * with POSTERN_ERR_SERVER_ID_TAKEN.
   */
  async start(): Promise<void> {
    await this.#takeLease();
    await this.#refresh();
    this.#unsubscribe = this.#store.changes.subscribe((change) => this.#onChange(change));
    await this.#announce();
    this.#schedule();
  }

  /** Leaves the set: gives the lease up and tells the other edges at once. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#unsubscribe?.();
    await this.#refreshing;
    try {
      await this.#store.edges.release(this.#o.serverId, this.#instance);
      await this.#announce();
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'could not release the edge lease');
    }
  }

  /** Re-reads the live set now (coalesced with a read in progress). */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = this.#refresh().finally(() => {
      this.#refreshing = undefined;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.refresh();
      }
    });
    return this.#refreshing;
  }

  #onChange(change: StoreChange): void {
    if (change.origin === this.#o.serverId) return;
    if (change.topic === EDGES_TOPIC || change.topic === 'resync') void this.refresh();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimeout(
      () => void this.#tick().finally(() => this.#schedule()),
      this.#o.renewMs ?? Math.max(50, Math.floor(this.#ttlMs / 3)),
    );
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    try {
      await this.#renew();
    } catch (err) {
      const taken = isPosternError(err, 'POSTERN_ERR_SERVER_ID_TAKEN');
      this.#o.logger[taken ? 'error' : 'warn'](
        { err: (err as Error).message, code: (err as { code?: string }).code },
        'could not renew the edge lease',
      );
    }
    await this.refresh();
    // Expired leases of crashed edges would otherwise stay in the table for good.
    await this.#store.edges.prune().catch(() => 0);
  }

  async #takeLease(): Promise<void> {
    const deadline = this.#clock.monotonic() + this.#ttlMs + 1000;
    for (;;) {
      try {
        await this.#renew();
        return;
      } catch (err) {
        const taken = isPosternError(err, 'POSTERN_ERR_SERVER_ID_TAKEN');
        if (!taken || this.#clock.monotonic() >= deadline || this.#stopped) throw err;
        this.#o.logger.warn(
          { serverId: this.#o.serverId },
          'server id held by another edge; waiting for its lease to expire (a crashed predecessor?)',
        );
        await new Promise<void>((resolve) => {
          this.#clock.setTimeout(resolve, Math.max(50, Math.floor(this.#ttlMs / 6)));
        });
      }
    }
  }

  #renew(): Promise<EdgeLease> {
    return this.#store.edges.renew({
      serverId: this.#o.serverId,
      address: this.#o.address,
      instance: this.#instance,
      ttlMs: this.#ttlMs,
    });
  }

  async #refresh(): Promise<void> {
    let leases: EdgeLease[];
    try {
      leases = await this.#store.edges.live();
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'could not read the edge set');
      return;
    }
    if (this.#stopped) return;
    const peers = leases.map((l) => ({ serverId: l.serverId, address: l.address }));
    // This edge is live while it runs, even when its renewal is late.
    if (!peers.some((p) => p.serverId === this.#o.serverId)) {
      peers.push({ serverId: this.#o.serverId, address: this.#o.address });
      peers.sort((a, b) => (a.serverId < b.serverId ? -1 : a.serverId > b.serverId ? 1 : 0));
    }
    const next: EdgeView = { serverId: this.#o.serverId, serverCount: peers.length, peers };
    if (sameView(next, this.#view)) return;
    const before = this.#view.serverCount;
    this.#view = next;
    this.#o.logger.info(
      { serverCount: next.serverCount, before, peers: peers.map((p) => p.serverId) },
      'edge set changed',
    );
    this.emit('change', next);
  }

  async #announce(): Promise<void> {
    await this.#store.changes
      .publish({ topic: EDGES_TOPIC, origin: this.#o.serverId })
      .catch((err: unknown) =>
        this.#o.logger.warn({ err: (err as Error).message }, 'could not announce the edge set'),
      );
  }
}

function sameView(a: EdgeView, b: EdgeView): boolean {
  return (
    a.peers.length === b.peers.length &&
    a.peers.every(
      (p, i) => p.serverId === b.peers[i]?.serverId && p.address === b.peers[i]?.address,
    )
  );
}
