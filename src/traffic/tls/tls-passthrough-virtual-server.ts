import net from 'node:net';
import { systemClock } from '../../core/index.js';
import { Router } from '../http/router.js';
import { PassthroughSession, type Settings } from './passthrough-session.js';
import type { TlsPassthroughOptions } from './tls-passthrough-options.js';
import { boundAddress, listenOn } from '../listening.js';
import { applyConnectionCap, reportRefusals } from '../connection-cap.js';
import { drainCut } from '../drain-cut.js';

export type {
  SniRoute,
  TlsPassthroughOptions,
  TlsSessionRecord,
} from './tls-passthrough-options.js';

/**
 * Accepts TLS clients without terminating TLS: reads the ClientHello, routes by its SNI name,
 * dials a node through the Dialer, replays the bytes read so far and joins the connections.
 */
export class TlsPassthroughVirtualServer {
  readonly name: string;
  #settings: Settings;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor(options: TlsPassthroughOptions) {
    this.name = options.name;
    this.#settings = settingsOf(options);
    this.#server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
      this.#accept(socket),
    );
    applyConnectionCap(this.#server, options.maxConnections);
    reportRefusals(this.#server, this.name, () => this.#settings.options);
  }

  /** Swaps pools, routes, timeouts and the cap for new connections; those in progress keep theirs. */
  reconfigure(options: TlsPassthroughOptions): void {
    this.#settings = settingsOf({
      ...options,
      name: this.name,
      listen: this.#settings.options.listen,
    });
    applyConnectionCap(this.#server, options.maxConnections);
  }

  /** Client connections in progress. */
  get activeSessions(): number {
    return this.#sockets.size;
  }

  /** Starts listening; rejects with POSTERN_ERR_LISTEN_FAILED when the address is taken. */
  async start(): Promise<void> {
    await listenOn(this.#server, this.name, this.#settings.options.listen);
  }

  /** The bound address (useful with port 0). */
  address(): { host: string; port: number } {
    return boundAddress(this.#server);
  }

  /** Stops accepting; sessions in flight get `drainTimeoutMs` (default 30000), then are cut. */
  async close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const timer = setTimeout(() => {
      for (const s of this.#sockets) s.destroy(drainCut());
    }, options.drainTimeoutMs ?? 30_000);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }

  #accept(client: net.Socket): void {
    this.#sockets.add(client);
    new PassthroughSession(this.#settings, client, () => this.#sockets.delete(client)).start();
  }
}

function settingsOf(options: TlsPassthroughOptions): Settings {
  const routes = (options.routes ?? []).map((r) => ({
    host: r.host,
    pool: r.pool,
    ...(r.name === undefined ? {} : { name: r.name }),
  }));
  return { options, router: new Router(options.pool, routes), clock: options.clock ?? systemClock };
}
