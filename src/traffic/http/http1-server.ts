import type net from 'node:net';
import {
  Http1Connection,
  type Http1ConnectionOwner,
  type Http1Handlers,
  type Http1Settings,
} from './http1-connection.js';

/**
 * Postern's HTTP/1.1 server over sockets accepted elsewhere (a net or TLS listener): one
 * {@link Http1Connection} per socket, and one periodic sweep for every connection's timeouts
 * instead of a timer per socket.
 */
export class Http1Server implements Http1ConnectionOwner {
  settings: Http1Settings;
  readonly handlers: Http1Handlers;
  draining = false;
  readonly #connections = new Set<Http1Connection>();
  #sweep: NodeJS.Timeout | undefined;
  #sweepMs = 0;

  constructor(settings: Http1Settings, handlers: Http1Handlers) {
    this.settings = settings;
    this.handlers = handlers;
  }

  /**
   * Serves HTTP/1.1 on a connected (and, for https, handshaken) socket; `keptAlive` for one given
   * back after a refused upgrade, whose wait for the next request is keep-alive time.
   */
  accept(socket: net.Socket, keptAlive = false): void {
    socket.setNoDelay(true);
    this.#connections.add(new Http1Connection(socket, this, keptAlive));
    this.#startSweep();
  }

  /** New limits and timeouts, for every connection from now on. */
  configure(settings: Http1Settings): void {
    this.settings = settings;
    this.#stopSweep();
    if (this.#connections.size > 0) this.#startSweep();
  }

  forget(connection: Http1Connection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0) this.#stopSweep();
  }

  /** Stops keeping connections alive: idle ones close now, busy ones after their response. */
  drain(): void {
    this.draining = true;
    this.closeIdle();
  }

  /** Closes the connections that are between requests. */
  closeIdle(): void {
    for (const c of [...this.#connections]) c.closeIfIdle();
  }

  #startSweep(): void {
    if (this.#sweep) return;
    this.#sweepMs = sweepInterval(this.settings);
    this.#sweep = setInterval(() => {
      const now = performance.now();
      for (const c of [...this.#connections]) c.sweep(now);
    }, this.#sweepMs);
    this.#sweep.unref();
  }

  #stopSweep(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }
}

/** A quarter of the shortest timeout, between 50 ms and 1 s. */
function sweepInterval(s: Http1Settings): number {
  const timeouts = [s.requestTimeoutMs, s.keepaliveTimeoutMs, s.idleTimeoutMs].filter((t) => t > 0);
  const shortest = timeouts.length === 0 ? 4_000 : Math.min(...timeouts);
  return Math.min(1_000, Math.max(50, Math.floor(shortest / 4)));
}
