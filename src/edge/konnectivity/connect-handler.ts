import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { Logger } from 'pino';
import { isPosternError, systemClock, type Clock } from '../../core/index.js';
import type { Identifiers } from '../../protocol/index.js';
import { joinStreams, type DialRequest, type DialResult } from '../../traffic/index.js';
import { parseConnectHead, type ConnectHead } from './connect-head.js';
import {
  CONNECTION_ESTABLISHED,
  classifyDialFailure,
  failureResponse,
  type FailureStatus,
} from './connect-response.js';
import { konnectivityErrors } from './errors.js';
import type { FrontendMetrics, ListenerKind, RequestOutcome } from './frontend-metrics.js';
import { selectConnector, type Candidate, type ProxyStrategy } from './proxy-strategies.js';

/** A connector as the frontend sees it: its identifiers and load, and how to dial through it. */
export interface FrontendConnector extends Candidate {
  readonly group: string;
  readonly identifiers: Identifiers;
}

/** Where the frontend finds connectors and opens sessions through them. */
export interface FrontendBackend<C extends FrontendConnector = FrontendConnector> {
  /** Connectors holding a tunnel that may take a new session now. */
  candidates(): readonly C[];
  /** Opens a session to `request.address` through one connector; rejects with a coded error. */
  dial(connector: C, request: DialRequest): Promise<DialResult>;
}

/** How CONNECT requests are handled; every limit has a default. */
export interface ConnectHandlerOptions<C extends FrontendConnector> {
  readonly backend: FrontendBackend<C>;
  readonly strategies: readonly ProxyStrategy[];
  readonly metrics: FrontendMetrics;
  readonly logger: Logger;
  readonly clock?: Clock | undefined;
  /** Time for the whole request head to arrive; default 10 s. */
  readonly headTimeoutMs?: number | undefined;
  /** Time for a connector to dial the destination; default 10 s. */
  readonly dialTimeoutMs?: number | undefined;
  /** Requests waiting for a dial result at once; more get 503. Default 1000. */
  readonly maxPendingDials?: number | undefined;
  /** Largest request head; default 8192 bytes. */
  readonly maxHeadBytes?: number | undefined;
}

/** A dial that reached its destination, or why none did. */
type DialAttempt =
  | { readonly ok: true; readonly upstream: DialResult }
  | {
      readonly ok: false;
      readonly status: FailureStatus;
      readonly outcome: RequestOutcome;
      readonly error: Error;
    };

/** Connectors tried for one request when one refuses the destination (its grant does not cover it). */
const MAX_ATTEMPTS = 3;

/**
 * Serves one client connection of the Konnectivity frontend: reads the CONNECT head (bounded
 * in size and time), picks a connector by the proxy strategies, has it dial the destination,
 * then answers exactly `HTTP/1.1 200 Connection Established` and joins the two byte streams.
 * Bytes the client sent after the head are kept and delivered first.
 */
export class ConnectHandler<C extends FrontendConnector> {
  readonly #o: ConnectHandlerOptions<C>;
  readonly #clock: Clock;
  readonly #sockets = new Set<net.Socket>();
  #pending = 0;
  #turn = 0;

  constructor(options: ConnectHandlerOptions<C>) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Client connections open now (any state). */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Takes over a freshly accepted client connection. */
  handle(socket: net.Socket, listener: ListenerKind): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => undefined);
    void this.#readHead(socket, listener).then(
      (read) => read && this.#route(socket, listener, read.head),
      (err: unknown) => {
        this.#o.logger.error({ err }, 'konnectivity request failed unexpectedly');
        socket.destroy();
      },
    );
  }

  /** Cuts every client connection (tunnels included). */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Collects the head; answers and closes on a bad or late one. Leaves the socket paused. */
  #readHead(
    socket: net.Socket,
    listener: ListenerKind,
  ): Promise<{ head: ConnectHead } | undefined> {
    const timeoutMs = this.#o.headTimeoutMs ?? 10_000;
    return new Promise((resolve) => {
      let buffer: Buffer = Buffer.alloc(0);
      const finish = (value: { head: ConnectHead } | undefined): void => {
        this.#clock.clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.off('end', onClose);
        resolve(value);
      };
      const timer = this.#clock.setTimeout(() => {
        this.#refuse(
          socket,
          listener,
          408,
          'head_timeout',
          konnectivityErrors.headTimeout(timeoutMs),
        );
        finish(undefined);
      }, timeoutMs);
      // A client that half-closes before its head is complete will never send one.
      const onClose = (): void => {
        finish(undefined);
        socket.destroy();
      };
      const onData = (chunk: Buffer): void => {
        buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
        const parsed = parseConnectHead(buffer, { maxHeadBytes: this.#o.maxHeadBytes ?? 8192 });
        if (parsed.state === 'incomplete') return;
        socket.pause();
        if (parsed.state === 'error') {
          const outcome = parsed.status === 405 ? 'method_not_allowed' : 'bad_request';
          this.#refuse(
            socket,
            listener,
            parsed.status,
            outcome,
            konnectivityErrors.badRequest(parsed.reason),
          );
          return finish(undefined);
        }
        // Whatever followed the head is the tunnel's first bytes: put it back, in order.
        const rest = buffer.subarray(parsed.headLength);
        if (rest.length > 0) socket.unshift(rest);
        finish({ head: parsed.head });
      };
      socket.on('data', onData);
      socket.once('close', onClose);
      socket.once('end', onClose);
    });
  }

  async #route(socket: net.Socket, listener: ListenerKind, head: ConnectHead): Promise<void> {
    const limit = this.#o.maxPendingDials ?? 1000;
    if (this.#pending >= limit) {
      return this.#refuse(
        socket,
        listener,
        503,
        'overloaded',
        konnectivityErrors.overloaded(limit),
      );
    }
    this.#pending += 1;
    this.#o.metrics.pendingDials.inc();
    let result: DialAttempt;
    try {
      result = await this.#dialFor(head);
    } finally {
      this.#pending -= 1;
      this.#o.metrics.pendingDials.dec();
    }
    if (!result.ok) {
      return this.#refuse(socket, listener, result.status, result.outcome, result.error);
    }
    if (socket.destroyed) {
      result.upstream.socket.destroy();
      this.#count(listener, 'client_closed');
      return;
    }
    this.#establish(socket, listener, head, result.upstream);
  }

  /** Tries connectors in strategy order until one dials the destination, at most three. */
  async #dialFor(head: ConnectHead): Promise<DialAttempt> {
    const tried = new Set<string>();
    let failure: { status: 502 | 504; outcome: RequestOutcome; error: Error } | undefined;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const selection = selectConnector(this.#o.backend.candidates(), head.host, {
        strategies: this.#o.strategies,
        exclude: tried,
        tieBreak: this.#turn++,
      });
      if (!selection) break;
      tried.add(selection.connector.connectorId);
      const started = this.#clock.monotonic();
      try {
        const upstream = await this.#o.backend.dial(selection.connector, {
          address: head.target,
          sessionId: `konn-${randomBytes(6).toString('hex')}`,
          timeoutMs: this.#o.dialTimeoutMs ?? 10_000,
        });
        this.#observeDial(selection.strategy, started);
        return { ok: true, upstream };
      } catch (err) {
        this.#observeDial(selection.strategy, started);
        const kind = classifyDialFailure(err);
        failure = { status: kind.status, outcome: kind.outcome, error: asError(err) };
        this.#o.logger.warn(
          { connector: selection.connector.connectorId, target: head.target, reason: kind.code },
          'konnectivity dial failed',
        );
        // Only a refusal by the connector's own grant is worth another connector's try.
        if (kind.outcome !== 'dial_not_allowed') break;
      }
    }
    if (failure) return { ok: false, ...failure };
    const error = konnectivityErrors.noConnector(head.target, this.#o.strategies);
    return { ok: false, status: 503, outcome: 'no_connector', error };
  }

  #establish(
    socket: net.Socket,
    listener: ListenerKind,
    head: ConnectHead,
    upstream: DialResult,
  ): void {
    const { metrics, logger } = this.#o;
    socket.write(CONNECTION_ESTABLISHED);
    this.#count(listener, 'established');
    metrics.openTunnels.inc({ listener });
    const log = logger.child({ target: head.target, connector: upstream.connectorId });
    log.debug('konnectivity tunnel established');
    joinStreams(socket, upstream.socket, (reason) => {
      metrics.openTunnels.dec({ listener });
      log.debug({ reason }, 'konnectivity tunnel closed');
    });
  }

  #refuse(
    socket: net.Socket,
    listener: ListenerKind,
    status: FailureStatus,
    outcome: RequestOutcome,
    error: Error,
  ): void {
    this.#count(listener, outcome);
    if (socket.destroyed) return;
    const code = isPosternError(error) ? error.code : 'POSTERN_ERR_INTERNAL';
    socket.end(failureResponse(status, `${outcome}: ${code}`, error.message));
    // Discard what else the client sends, so its end is seen and the socket closes promptly.
    socket.resume();
    // A client that never reads its answer must not hold the socket open.
    this.#clock.setTimeout(() => socket.destroy(), 5000).unref?.();
  }

  #count(listener: ListenerKind, outcome: RequestOutcome): void {
    this.#o.metrics.requests.inc({ listener, outcome });
  }

  #observeDial(strategy: ProxyStrategy, started: number): void {
    this.#o.metrics.dialSeconds.observe({ strategy }, (this.#clock.monotonic() - started) / 1000);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
