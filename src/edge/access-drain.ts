import type { ServerResponse } from 'node:http';
import type https from 'node:https';
import type { Duplex } from 'node:stream';
import type { Clock } from '../core/index.js';
import { drainCut } from '../traffic/index.js';
import { TlsHandshakes } from './tls-handshakes.js';

/** What an {@link AccessDrain} stops and cuts. */
export interface AccessDrainOptions {
  readonly clock: Clock;
  /** The client sockets of the sessions open now. */
  readonly sessions: () => Iterable<Duplex>;
}

/**
 * The access proxy's stop, as a closing virtual server drains: no new connections, idle
 * keep-alive connections close at once and busy ones after their answer, and when the drain time
 * runs out whatever is left is cut (sessions with close reason `drain_timeout`, requests in
 * flight, and connections still in their TLS handshake).
 */
export class AccessDrain {
  readonly #server: https.Server;
  readonly #o: AccessDrainOptions;
  readonly #handshakes: TlsHandshakes;
  /** Set once the drain began: an answered request's connection closes instead of idling. */
  #draining = false;
  #ranOut = false;

  constructor(server: https.Server, options: AccessDrainOptions) {
    this.#server = server;
    this.#o = options;
    this.#handshakes = new TlsHandshakes(server);
  }

  /** Whether the drain time ran out: a session that reaches the pipe only now is cut at once. */
  get ranOut(): boolean {
    return this.#ranOut;
  }

  /** Watches a request's answer: once the drain began, its connection closes when idle. */
  watch(res: ServerResponse): void {
    // Node keeps a draining server's connection alive after its answer until the keep-alive
    // timeout; closing it once idle lets the drain end when the last answer is sent.
    res.once('finish', () => {
      if (this.#draining) setImmediate(() => this.#server.closeIdleConnections());
    });
  }

  /** Stops accepting, and resolves once every connection ended, by itself or cut after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    // Node also closes the idle keep-alive connections here.
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const timer = this.#o.clock.setTimeout(() => this.#cutRemaining(), timeoutMs);
    timer.unref?.();
    await closed;
    this.#o.clock.clearTimeout(timer);
  }

  #cutRemaining(): void {
    this.#ranOut = true;
    for (const s of [...this.#o.sessions()]) s.destroy(drainCut());
    this.#server.closeAllConnections();
    // Not among the HTTP layer's connections yet, and `close` waits for them too.
    this.#handshakes.cutAll();
  }
}
