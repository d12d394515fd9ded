import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../../core/index.js';
import type { Dialer, DialResult } from '../dialer.js';
import { startUpstreamTls, type UpstreamTls } from '../upstream-tls.js';
import type { ViewReader } from '../io-shortcuts.js';
import type { ResponseParserLimits } from './response-parser.js';
import { UpstreamConnection } from './upstream-connection.js';

/** How upstream connections are kept for reuse. */
export interface UpstreamConnectionsOptions {
  readonly dialer: Dialer;
  readonly clock: Clock;
  /** Idle connections kept per node (vTM max_idle_connections_pernode). Default 256, so a burst of concurrent responses does not close and re-dial upstream connections. */
  readonly maxIdlePerNode?: number;
  /** Close a connection idle this long; keep it below the nodes' keep-alive timeout. Default 4000. */
  readonly idleTimeoutMs?: number;
  readonly limits?: ResponseParserLimits;
}

/** Dials upstream connections through the Dialer and keeps idle ones per node for reuse. */
export class UpstreamConnections {
  readonly #dialer: Dialer;
  readonly #clock: Clock;
  readonly #maxIdle: number;
  readonly #idleMs: number;
  readonly #limits: ResponseParserLimits;
  /** Idle connections by connector group ('' for direct ones), then node address. */
  readonly #idle = new Map<string, Map<string, UpstreamConnection[]>>();
  #idleCount = 0;
  #sweeper: TimerHandle | undefined;
  #closed = false;
  /** Connections dialed so far (for tests and metrics). */
  dialed = 0;

  constructor(options: UpstreamConnectionsOptions) {
    this.#dialer = options.dialer;
    this.#clock = options.clock;
    this.#maxIdle = options.maxIdlePerNode ?? 256;
    this.#idleMs = options.idleTimeoutMs ?? 4000;
    this.#limits = options.limits ?? {};
  }

  /** The dialer these connections go through. */
  get dialer(): Dialer {
    return this.#dialer;
  }

  /** Idle connections held right now. */
  get idleCount(): number {
    return this.#idleCount;
  }

  /** The most recently used idle connection to `address` through `via` (with `tls`, if any). */
  takeIdle(
    address: string,
    via: string | undefined,
    tls?: UpstreamTls,
  ): UpstreamConnection | undefined {
    // Two lookups by strings the pool already holds, not one by a key built per request:
    // a new string is hashed on every lookup.
    const list = this.#idle.get(tls ? tls.cacheGroup : (via ?? ''))?.get(address);
    if (!list) return undefined;
    let conn = list.pop();
    while (conn) {
      this.#idleCount--;
      if (!conn.closed) {
        conn.idleSince = 0;
        return conn;
      }
      conn = list.pop();
    }
    return undefined;
  }

  /**
   * Dials a stream to `address` (TLS on top when `tls` is given); rejects with the Dialer's
   * coded error, or POSTERN_ERR_UPSTREAM_TLS when the handshake or certificate check fails.
   */
  async dialStream(
    address: string,
    via: string | undefined,
    options: { readonly timeoutMs: number; readonly tls?: UpstreamTls | undefined },
  ): Promise<DialResult> {
    const tls = options.tls;
    const result = await this.#dialer.dial({
      address,
      ...(via === undefined ? {} : { via }),
      sessionId: randomUUID(),
      timeoutMs: options.timeoutMs,
    });
    if (!tls) return result;
    // Over a via pool's tunnel stream as over a TCP socket: the session is the edge's and the
    // node's, the connector relays ciphertext; closing the TLS socket closes the stream.
    const socket = await startUpstreamTls(result.socket, address, {
      tls,
      timeoutMs: options.timeoutMs,
    });
    return { ...result, socket };
  }

  /** Dials a new connection; rejects with the Dialer's coded error (or POSTERN_ERR_UPSTREAM_TLS). */
  async dial(
    address: string,
    via: string | undefined,
    timeoutMs: number,
    tls?: UpstreamTls,
  ): Promise<UpstreamConnection> {
    if (tls) {
      const result = await this.dialStream(address, via, { timeoutMs, tls });
      this.dialed++;
      return this.#wrap(address, via, result, undefined, tls.cacheGroup);
    }
    const reader: ViewReader = { onView: undefined };
    const result = await this.#dialer.dial({
      address,
      ...(via === undefined ? {} : { via }),
      sessionId: randomUUID(),
      timeoutMs,
      viewReader: reader,
    });
    this.dialed++;
    return this.#wrap(address, via, result, reader, undefined);
  }

  #wrap(
    address: string,
    via: string | undefined,
    result: DialResult,
    reader: ViewReader | undefined,
    cacheGroup: string | undefined,
  ): UpstreamConnection {
    const socket = result.socket as { setNoDelay?: (on: boolean) => void } & typeof result.socket;
    socket.setNoDelay?.(true);
    return new UpstreamConnection(result.socket, {
      address,
      via,
      connectorId: result.connectorId,
      cacheGroup,
      limits: this.#limits,
      onIdleClose: (c) => this.#forget(c),
      viewReader: result.viewReads === true ? reader : undefined,
    });
  }

  /** Returns a connection after its exchange: kept when `reusable` and there is room, else closed. */
  release(conn: UpstreamConnection, reusable: boolean): void {
    if (!reusable || this.#closed || conn.closed) {
      conn.destroy();
      return;
    }
    const group = conn.cacheGroup;
    let byAddress = this.#idle.get(group);
    if (!byAddress) this.#idle.set(group, (byAddress = new Map<string, UpstreamConnection[]>()));
    let list = byAddress.get(conn.address);
    if (!list) byAddress.set(conn.address, (list = []));
    if (list.length >= this.#maxIdle) {
      conn.destroy();
      return;
    }
    conn.idleSince = this.#clock.monotonic();
    list.push(conn);
    this.#idleCount++;
    this.#sweeper ??= this.#schedule();
  }

  /** Closes every idle connection; later releases close theirs. */
  close(): void {
    this.#closed = true;
    if (this.#sweeper) this.#clock.clearTimeout(this.#sweeper);
    this.#sweeper = undefined;
    for (const byAddress of this.#idle.values())
      for (const list of byAddress.values()) for (const c of list.splice(0)) c.destroy();
    this.#idle.clear();
    this.#idleCount = 0;
  }

  #forget(conn: UpstreamConnection): void {
    const list = this.#idle.get(conn.cacheGroup)?.get(conn.address);
    const i = list ? list.indexOf(conn) : -1;
    if (list && i >= 0) {
      list.splice(i, 1);
      this.#idleCount--;
    }
  }

  #schedule(): TimerHandle {
    const handle = this.#clock.setTimeout(() => this.#sweep(), Math.max(50, this.#idleMs / 2));
    handle.unref?.();
    return handle;
  }

  #sweep(): void {
    const oldest = this.#clock.monotonic() - this.#idleMs;
    for (const [group, byAddress] of this.#idle) {
      for (const [address, list] of byAddress) {
        // Lists are ordered by release time, oldest first.
        let n = 0;
        while (n < list.length && (list[n] as UpstreamConnection).idleSince <= oldest) n++;
        for (const c of list.splice(0, n)) c.destroy();
        this.#idleCount -= n;
        if (list.length === 0) byAddress.delete(address);
      }
      if (byAddress.size === 0) this.#idle.delete(group);
    }
    this.#sweeper = this.#idleCount > 0 && !this.#closed ? this.#schedule() : undefined;
  }
}
