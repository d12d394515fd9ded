import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Backoff } from '../core/index.js';
import type { EdgeTunnel } from './edge-tunnel.js';

/** How the connector reaches its edges. */
export interface EdgeSupervisorOptions {
  /**
   * One address (usually a load balancer): dial it again and again until a tunnel is held to
   * every live edge id. Several: one tunnel per address, each kept up on its own.
   */
  readonly addresses: readonly string[];
  /** Opens one tunnel (TLS, hello naming the edges already held, welcome). */
  readonly open: (address: string, heldEdges: readonly string[]) => Promise<EdgeTunnel>;
  /** Delays between failed attempts; default 1 s, ×1.5, capped at 10 s, jittered. */
  readonly newBackoff?: (() => Backoff) | undefined;
  /**
   * Wait after landing on an edge already held (Konnectivity's sync interval: not a failure,
   * so it does not grow); default 1 s, jittered ±20 %.
   */
  readonly duplicateDelayMs?: number | undefined;
  /** A tunnel to an edge that left the set is dropped only when older than this; default 5 s. */
  readonly joinGraceMs?: number | undefined;
  readonly logger: Logger;
}

interface SupervisorEvents {
  /** A tunnel to a new edge id is up. */
  connected: [EdgeTunnel];
  /** A tunnel left the set (closed, go-away, or its edge left); its streams may still finish. */
  disconnected: [EdgeTunnel, Error | undefined];
  /** An attempt failed before a tunnel was up. */
  tunnelError: [Error];
}

/** The live HA set as the edges last described it. */
export interface KnownEdges {
  readonly serverCount: number;
  readonly serverIds: ReadonlySet<string>;
}

/**
 * The connector's set of tunnels, one per edge server id (Konnectivity's agent ClientSet, with
 * pushed set changes instead of polling): duplicates of a held id are closed; a tunnel whose
 * edge sends go-away or leaves the set is dropped and a replacement is looked for.
 */
export class EdgeSupervisor extends EventEmitter<SupervisorEvents> {
  readonly #o: EdgeSupervisorOptions;
  readonly #tunnels = new Map<string, EdgeTunnel>();
  /** Every tunnel still open, including ones dropped from the set that are finishing. */
  readonly #open = new Set<EdgeTunnel>();
  readonly #since = new Map<EdgeTunnel, number>();
  readonly #stop = new AbortController();
  #known: KnownEdges = { serverCount: 1, serverIds: new Set() };
  #wake: (() => void) | undefined;
  /** A tunnel left the set since the last attempt: the next dial waits a backoff step. */
  #lost = false;
  /** An edge id we never heard of joined: start the backoff over to find it quickly. */
  #fresh = false;
  #loops: Promise<void>[] = [];

  constructor(options: EdgeSupervisorOptions) {
    super();
    if (options.addresses.length === 0) throw new Error('EdgeSupervisor needs an address');
    this.#o = options;
  }

  /** Tunnels in the set, by edge server id. */
  get tunnels(): ReadonlyMap<string, EdgeTunnel> {
    return this.#tunnels;
  }

  /** The HA set as last described by an edge. */
  get known(): KnownEdges {
    return this.#known;
  }

  /** Every open tunnel (in the set or finishing), for drain and shutdown. */
  get openTunnels(): readonly EdgeTunnel[] {
    return [...this.#open];
  }

  /** Starts dialing. */
  start(): void {
    const { addresses } = this.#o;
    this.#loops =
      addresses.length === 1
        ? [this.#syncLoop(addresses[0]!)]
        : addresses.map((address) => this.#slotLoop(address));
  }

  /** Stops dialing (tunnels stay open; the caller drains and closes them). */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await Promise.all(this.#loops);
  }

  /** Behind one address: dial until every known edge id has a tunnel, then wait for news. */
  async #syncLoop(address: string): Promise<void> {
    const backoff = this.#backoff();
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      if (!this.#needsMore()) {
        await this.#sleep();
        continue;
      }
      if (this.#lost) {
        // Konnectivity's agent also waits a sync interval before replacing a lost tunnel.
        this.#lost = false;
        await delay(backoff.next(), signal);
        continue;
      }
      if (this.#fresh) {
        this.#fresh = false;
        backoff.reset();
      }
      const outcome = await this.#attempt(address);
      if (outcome === 'added') backoff.reset();
      else if (outcome === 'duplicate') await delay(this.#duplicateDelay(), signal);
      else await delay(backoff.next(), signal);
    }
  }

  /** One of an explicit list: keep one tunnel to this address up. */
  async #slotLoop(address: string): Promise<void> {
    const backoff = this.#backoff();
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      let added: EdgeTunnel | undefined;
      const outcome = await this.#attempt(address, (t) => (added = t));
      if (outcome === 'added' && added) {
        const upAt = Date.now();
        await this.#untilDropped(added);
        if (Date.now() - upAt > 10_000) backoff.reset();
      }
      if (!signal.aborted) await delay(backoff.next(), signal);
    }
  }

  async #attempt(
    address: string,
    onAdded?: (tunnel: EdgeTunnel) => void,
  ): Promise<'added' | 'duplicate' | 'failed'> {
    let tunnel: EdgeTunnel;
    try {
      tunnel = await this.#o.open(address, [...this.#tunnels.keys()]);
    } catch (err) {
      if (!this.#stop.signal.aborted) this.emit('tunnelError', err as Error);
      return 'failed';
    }
    const id = tunnel.welcome.serverId;
    if (this.#stop.signal.aborted || this.#tunnels.has(id)) {
      // The load balancer sent us to an edge we already hold: hang up and try again later.
      this.#o.logger.debug({ edge: id, address }, 'duplicate edge tunnel closed');
      tunnel.session.destroy();
      return 'duplicate';
    }
    this.#add(tunnel);
    onAdded?.(tunnel);
    return 'added';
  }

  #add(tunnel: EdgeTunnel): void {
    const id = tunnel.welcome.serverId;
    this.#tunnels.set(id, tunnel);
    this.#open.add(tunnel);
    this.#since.set(tunnel, Date.now());
    this.#learn(tunnel.welcome.serverCount, tunnel.welcome.peers, id);
    tunnel.on('edges', (m) => this.#learn(m.serverCount, m.peers, id));
    tunnel.session.once('goaway', () =>
      this.#drop(tunnel, new Error(`edge ${id} is going away`), { goingAway: true }),
    );
    tunnel.once('close', (err) => {
      this.#open.delete(tunnel);
      this.#since.delete(tunnel);
      this.#drop(tunnel, err);
    });
    this.emit('connected', tunnel);
  }

  /** Removes a tunnel from the set (it may still finish its streams) and looks for a replacement. */
  #drop(tunnel: EdgeTunnel, err: Error | undefined, how: { goingAway?: boolean } = {}): void {
    const id = tunnel.welcome.serverId;
    if (this.#tunnels.get(id) !== tunnel) return;
    this.#tunnels.delete(id);
    this.#logDrop(id, err, how.goingAway === true);
    this.#lost = true;
    this.emit('disconnected', tunnel, err);
    this.#wake?.();
  }

  /** Says why a tunnel left: the connector stopping, the edge going away, or a failure. */
  #logDrop(id: string, err: Error | undefined, goingAway: boolean): void {
    const log = this.#o.logger;
    if (this.#stop.signal.aborted) {
      // The edge answers the connector's own leaving with go-away: nothing is wrong with it.
      log.info({ edge: id }, 'tunnel to the edge closed: this connector is leaving');
    } else if (goingAway) {
      log.info(
        { edge: id },
        'the edge is going away (restart or upgrade); sessions in flight finish, reconnecting',
      );
    } else {
      log.info({ edge: id, err: err?.message }, 'edge tunnel left the set');
    }
  }

  /** Takes in an edge's description of the set; drops tunnels to edges that left it. */
  #learn(serverCount: number, peers: readonly { serverId: string }[], from: string): void {
    const ids = new Set(peers.map((p) => p.serverId));
    // An older edge that sends no peer list still tells the count.
    if (ids.size === 0) ids.add(from);
    for (const id of ids)
      if (!this.#known.serverIds.has(id) && !this.#tunnels.has(id)) this.#fresh = true;
    this.#known = { serverCount: Math.max(1, serverCount, ids.size), serverIds: ids };
    const grace = this.#o.joinGraceMs ?? 5000;
    for (const [id, tunnel] of this.#tunnels) {
      const age = Date.now() - (this.#since.get(tunnel) ?? 0);
      if (peers.length > 0 && !ids.has(id) && age > grace) {
        this.#drop(tunnel, new Error(`edge ${id} left the HA set`));
        void tunnel.close().catch(() => undefined);
      }
    }
    this.#wake?.();
  }

  #needsMore(): boolean {
    if (this.#tunnels.size < this.#known.serverCount) return true;
    for (const id of this.#known.serverIds) if (!this.#tunnels.has(id)) return true;
    return false;
  }

  /** Waits until something changes (a tunnel left, news about the set, stop). */
  #sleep(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = undefined;
        resolve();
      };
      if (this.#stop.signal.aborted) this.#wake();
    });
  }

  #untilDropped(tunnel: EdgeTunnel): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#tunnels.get(tunnel.welcome.serverId) === tunnel && !this.#stop.signal.aborted)
          return;
        this.off('disconnected', check);
        this.#stop.signal.removeEventListener('abort', check);
        resolve();
      };
      this.on('disconnected', check);
      this.#stop.signal.addEventListener('abort', check);
      check();
    });
  }

  #duplicateDelay(): number {
    const base = this.#o.duplicateDelayMs ?? 1000;
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  #backoff(): Backoff {
    return this.#o.newBackoff?.() ?? new Backoff({ initialMs: 1000, factor: 1.5, maxMs: 10_000 });
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
