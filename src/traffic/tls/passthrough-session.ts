import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { isPosternError, type Clock, type TimerHandle } from '../../core/index.js';
import { dialOutcome, isRetryableDialError } from '../dial-outcome.js';
import type { Router } from '../http/router.js';
import type { UpstreamPick, UpstreamPool } from '../http/upstream-pool.js';
import { joinStreams } from '../join-streams.js';
import { NodeFailures, type FailedNodes } from '../node-failures.js';
import { readWhileQueued } from '../pool-queue.js';
import { proxyHeaderOf } from '../proxy-header.js';
import { parseClientHello } from './client-hello.js';
import { tlsErrors } from './errors.js';
import { queueOf, type QueueingPool } from './queueing-pool.js';
import type { TlsPassthroughOptions } from './tls-passthrough-options.js';

/** The configuration a session starts with; fixed for its life. */
export interface Settings {
  readonly options: TlsPassthroughOptions;
  readonly router: Router<UpstreamPool>;
  readonly clock: Clock;
}

/** One client connection: read the ClientHello, pick and dial a node, then join. */
export class PassthroughSession {
  readonly #s: Settings;
  readonly #client: net.Socket;
  readonly #onGone: () => void;
  readonly #sessionId = randomUUID();
  readonly #started: number;
  #buffered: Buffer = Buffer.alloc(0);
  #timer: TimerHandle | undefined;
  #route = 'default';
  #pool: UpstreamPool;
  #serverName: string | undefined;
  #node: string | undefined;
  #connectorId: string | undefined;
  #exclude = new Set<string>();
  #failures: NodeFailures | undefined;
  #lastError: unknown;
  #failedNodes: FailedNodes | undefined;
  #done = false;
  /** Set while the session waits in its pool's queue; aborting leaves the queue. */
  #queued: AbortController | undefined;
  /** Taken at accept: a socket's addresses may no longer be readable once it has closed. */
  readonly #proxyHeader: Buffer | undefined;

  constructor(settings: Settings, client: net.Socket, onGone: () => void) {
    this.#s = settings;
    this.#client = client;
    this.#onGone = onGone;
    this.#started = settings.clock.monotonic();
    this.#pool = settings.options.pool;
    this.#proxyHeader = proxyHeaderOf(settings.options.proxyProtocol, client);
  }

  start(): void {
    const client = this.#client;
    const o = this.#s.options;
    client.on('error', () => undefined);
    client.on('data', this.#onData);
    client.once('close', this.#onEarlyClose);
    const ms = o.clientHelloTimeoutMs ?? 10_000;
    this.#timer = this.#s.clock.setTimeout(
      () => this.#reject(tlsErrors.clientHelloTimeout(ms)),
      ms,
    );
  }

  readonly #onEarlyClose = (): void => this.#finish('client_closed');

  readonly #onData = (chunk: Buffer): void => {
    const max = this.#s.options.maxClientHelloBytes ?? 16384;
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    const result = parseClientHello(this.#buffered);
    if (result.status === 'incomplete') {
      if (this.#buffered.length > max) this.#reject(tlsErrors.clientHelloTooLarge(max));
      return;
    }
    if (result.status === 'invalid') {
      this.#reject(tlsErrors.clientHelloInvalid(result.reason));
      return;
    }
    this.#clearTimer();
    this.#client.off('data', this.#onData);
    this.#client.pause();
    this.#serverName = result.serverName;
    const match = this.#s.router.match(result.serverName ?? '', '/');
    this.#route = match.route;
    this.#pool = match.pool;
    this.#dial(0);
  };

  #dial(attempt: number): void {
    let pick: UpstreamPick;
    try {
      pick = this.#pool.pick(this.#pickOptions());
    } catch (err) {
      const queue = queueOf(this.#pool, err);
      // After failed attempts, the log says why they failed rather than that none is left.
      if (queue === undefined) this.#reject(this.#lastError ?? err);
      else this.#waitInQueue(queue, attempt);
      return;
    }
    this.#dialPicked(pick, attempt);
  }

  #pickOptions(): { exclude: ReadonlySet<string>; clientIp: string } {
    return { exclude: this.#exclude, clientIp: this.#client.remoteAddress ?? '' };
  }

  /**
   * Every node is at its connection limit: waits in the pool's queue, reading the client
   * meanwhile (bounded) so that one that resets leaves the queue at once. One that half-closes
   * (FIN) keeps its place and its FIN goes to the node, unless the pool has `abortOnClose`
   * (HAProxy's option abortonclose): then it leaves and is closed.
   */
  #waitInQueue(pool: QueueingPool, attempt: number): void {
    const queued = (this.#queued = new AbortController());
    const client = this.#client;
    const stopReading = readWhileQueued(client, () => {
      if (pool.abortOnClose === true) client.destroy();
    });
    const leaveQueue = (): void => {
      this.#queued = undefined;
      const early = stopReading();
      if (early.length > 0) this.#buffered = Buffer.concat([this.#buffered, ...early]);
    };
    pool.waitForSlot(this.#pickOptions(), { signal: queued.signal }).then(
      (pick) => {
        leaveQueue();
        // Handed a node just as the client left: the slot goes back at once.
        if (this.#done || client.destroyed) pick.done({ ok: true });
        else this.#dialPicked(pick, attempt);
      },
      (err: unknown) => {
        leaveQueue();
        if (!this.#done) this.#reject(this.#lastError ?? err);
      },
    );
  }

  #dialPicked(pick: UpstreamPick, attempt: number): void {
    const o = this.#s.options;
    this.#node = pick.node.address;
    const started = this.#s.clock.monotonic();
    o.dialer
      .dial({
        address: pick.node.address,
        ...(this.#pool.via === undefined ? {} : { via: this.#pool.via }),
        sessionId: this.#sessionId,
        timeoutMs: o.connectTimeoutMs ?? 10_000,
      })
      .then(
        (result) => {
          this.#connectorId = result.connectorId;
          // For a session the response time is the time to connect; the pick stays open
          // (counting as a connection of the node) until the session ends.
          const outcome = { ok: true, responseMs: this.#s.clock.monotonic() - started };
          if (this.#client.destroyed) {
            result.socket.destroy();
            pick.done(outcome);
            return;
          }
          // The PROXY protocol header, if any, must precede the ClientHello.
          if (this.#proxyHeader) result.socket.write(this.#proxyHeader);
          result.socket.write(this.#buffered);
          this.#buffered = Buffer.alloc(0);
          // Its FIN, read while queued, was its last 'end': the join will not see it again.
          if (this.#client.readableEnded) result.socket.end();
          this.#join(result.socket, () => pick.done(outcome));
        },
        (err: unknown) => {
          pick.done(dialOutcome(err));
          this.#exclude.add(pick.node.address);
          this.#lastError = err;
          (this.#failures ??= new NodeFailures()).add(pick.node.address, err);
          const retry = isRetryableDialError(err) && attempt < (o.retries ?? 1);
          if (retry && !this.#client.destroyed) this.#dial(attempt + 1);
          else this.#reject(err);
        },
      );
  }

  #join(upstream: Duplex, release: () => void): void {
    const client = this.#client;
    let idle = false;
    client.setTimeout(this.#s.options.idleTimeoutMs ?? 300_000, () => {
      idle = true;
      client.destroy();
      upstream.destroy();
    });
    client.off('close', this.#onEarlyClose);
    joinStreams(client, upstream, (reason) => {
      release();
      this.#finish(idle ? 'idle_timeout' : reason);
    });
    client.resume();
  }

  #reject(failure: unknown): void {
    this.#clearTimer();
    // Every node tried failed: the log and the record name each one, not only the last.
    const err = this.#failures?.report(this.#pool.name, failure) ?? failure;
    this.#failedNodes = this.#failures?.toRecord();
    const code = isPosternError(err) ? err.code : 'POSTERN_ERR_DIAL_FAILED';
    this.#s.options.logger?.warn(
      { server: this.#s.options.name, client: this.#client.remoteAddress, code },
      (err as Error).message,
    );
    this.#client.destroy();
    this.#finish(code);
  }

  #clearTimer(): void {
    if (this.#timer) this.#s.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #finish(closeReason: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    this.#queued?.abort();
    this.#onGone();
    const client = this.#client;
    this.#s.options.onSessionEnd?.({
      sessionId: this.#sessionId,
      virtualServer: this.#s.options.name,
      route: this.#route,
      pool: this.#pool.name,
      ...(this.#serverName === undefined ? {} : { serverName: this.#serverName }),
      client: `${client.remoteAddress}:${client.remotePort}`,
      ...(this.#node === undefined ? {} : { node: this.#node }),
      ...(this.#connectorId === undefined ? {} : { connectorId: this.#connectorId }),
      ...(this.#failedNodes === undefined ? {} : { failedNodes: this.#failedNodes }),
      bytesFromClient: client.bytesRead,
      bytesToClient: client.bytesWritten,
      durationMs: Math.round(this.#s.clock.monotonic() - this.#started),
      closeReason,
    });
  }
}
