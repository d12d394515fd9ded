import tls from 'node:tls';
import type { Logger } from 'pino';
import { definedProps, systemClock } from '../core/index.js';
import { ENROLL_ALPN, TUNNEL_ALPN, TUNNEL_CIPHERS, makeMessage } from '../protocol/index.js';
import { MuxSession, type MuxStream } from '../tunnel/index.js';
import { directSocketReads } from '../traffic/index.js';
import { controlErrors } from '../control/index.js';
import type { EdgeView } from './edge-membership.js';
import { serveEnrollment } from './enrollment-handler.js';
import { EnrollmentGuard } from './enrollment-guard.js';
import { admitTunnel } from './tunnel-admission.js';
import { TunnelControl, type TunnelControlOptions } from './tunnel-control.js';

/** How long close() waits, after cutting the tunnels, for their ends to be written to the store. */
const END_RECORDS_WAIT_MS = 2000;

/**
 * How the tunnel listener is set up: its certificate and limits, and (in TunnelControlOptions)
 * what connectors are told and where their reports go.
 */
export interface TunnelListenerOptions extends TunnelControlOptions {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
  readonly keepAliveIntervalMs?: number | undefined;
  readonly keepAliveTimeoutMs?: number | undefined;
  /** Bound on the TLS handshake, the control stream and the hello. Default 10 s. */
  readonly handshakeTimeoutMs?: number | undefined;
  /** Limits failed enrollments and sums their log lines; default one on the system clock. */
  readonly enrollmentGuard?: EnrollmentGuard | undefined;
}

/**
 * The port connectors dial: TLS 1.3, ALPN chooses enrollment (no certificate yet) or a
 * tunnel (client certificate from the edge CA required, checked again against the store: see
 * tunnel-admission.ts). An admitted tunnel's control stream is served by tunnel-control.ts.
 */
export class TunnelListener {
  readonly server: tls.Server;
  readonly #options: TunnelListenerOptions;
  readonly #log: Logger;
  readonly #sockets = new Set<tls.TLSSocket>();
  /** One per session not yet closed and recorded as ended; close() waits for them. */
  readonly #sessionEnds = new Set<Promise<void>>();
  readonly #handshakeMs: number;
  readonly #guard: EnrollmentGuard;
  readonly #control: TunnelControl;
  #closed: Promise<void> | undefined;

  constructor(options: TunnelListenerOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#handshakeMs = options.handshakeTimeoutMs ?? 10_000;
    this.#guard =
      options.enrollmentGuard ?? new EnrollmentGuard({ clock: systemClock, logger: this.#log });
    this.#control = new TunnelControl(options, {
      helloTimeoutMs: this.#handshakeMs,
      closing: () => this.#closed !== undefined,
    });
    this.server = tls.createServer({
      cert: options.certPem,
      key: options.keyPem,
      ca: [options.caPem],
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ciphers: TUNNEL_CIPHERS,
      honorCipherOrder: true,
      ALPNProtocols: [TUNNEL_ALPN, ENROLL_ALPN],
      handshakeTimeout: this.#handshakeMs,
    });
    this.server.on('secureConnection', (socket) => this.#onConnection(socket));
    this.server.on('error', (err) => this.#log.error({ err }, 'tunnel listener error'));
    this.server.on('tlsClientError', (err, socket) => {
      this.#options.metrics.tunnelRejections.inc({ reason: 'tls_handshake' });
      this.#log.debug(
        { remote: socket.remoteAddress, err: err.message },
        'TLS handshake failed on tunnel port',
      );
      // With a listener attached, node leaves the socket open: close it here.
      socket.destroy();
    });
  }

  /**
   * Stops accepting, sends go-away on every tunnel so connectors open no new streams here,
   * lets streams in flight finish for up to `graceMs`, then cuts what is left.
   */
  async close(graceMs = 5000): Promise<void> {
    const closed = this.goAway();
    this.#guard.close();
    const deadline = Date.now() + graceMs;
    while (
      Date.now() < deadline &&
      this.#options.registry.list().some((t) => t.session.streamCount > 1)
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // The go-away frames go out on the next turn: let them, then end (not destroy) the
    // connections, so connectors see an edge going away (restart, upgrade), not a failure.
    await new Promise((resolve) => setImmediate(resolve));
    for (const socket of this.#sockets) endSocket(socket);
    await closed;
    // Each tunnel's end is written to the store as its session closes, and the store closes
    // after this listener: wait for those writes (bounded) rather than lose them.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(this.#sessionEnds),
      new Promise((resolve) => (timer = setTimeout(resolve, END_RECORDS_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  /**
   * Stops accepting tunnels and sends go-away on every one, so connectors open nothing new
   * here and look for the other edges; streams in flight go on. Resolves when the port is shut.
   */
  goAway(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const tunnel of this.#options.registry.list()) tunnel.session.goAway();
    return this.#closed;
  }

  /** Tells every connected connector about a changed HA set. */
  pushEdges(view: EdgeView): void {
    const message = makeMessage({ type: 'edges', ...view, peers: [...view.peers] });
    for (const tunnel of this.#options.registry.list()) tunnel.control.send(message);
  }

  #onConnection(socket: tls.TLSSocket): void {
    // Small frames (dial results, window updates, request heads) must not wait for Nagle.
    socket.setNoDelay(true);
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', (err: Error) =>
      this.#log.debug({ remote: socket.remoteAddress, err: err.message }, 'tunnel socket error'),
    );
    if (socket.alpnProtocol === ENROLL_ALPN) {
      void serveEnrollment(socket, {
        authority: this.#options.authority,
        caPem: this.#options.caPem,
        metrics: this.#options.metrics,
        logger: this.#log,
        guard: this.#guard,
        timeoutMs: this.#handshakeMs,
      });
    } else {
      void this.#tunnel(socket);
    }
  }

  async #tunnel(socket: tls.TLSSocket): Promise<void> {
    const { metrics, authority } = this.#options;
    const identity = await admitTunnel(socket, {
      authority,
      metrics,
      logger: this.#log,
      timeoutMs: this.#handshakeMs,
    });
    if (!identity) return;
    const session = new MuxSession(socket, {
      role: 'server',
      logger: this.#log.child({ remote: `${socket.remoteAddress}:${socket.remotePort}` }),
      maxStreams: 100_000,
      directReads: directSocketReads,
      ...definedProps({
        keepAliveIntervalMs: this.#options.keepAliveIntervalMs,
        keepAliveTimeoutMs: this.#options.keepAliveTimeoutMs,
      }),
    });
    session.on('error', () => undefined);
    let controlStream: MuxStream;
    try {
      controlStream = await session.accept({ signal: AbortSignal.timeout(this.#handshakeMs) });
    } catch {
      metrics.tunnelRejections.inc({ reason: 'no_control_stream' });
      session.destroy();
      return;
    }
    // Settles once the session closed and its end is in the store; close() waits for it.
    const ended = this.#control.serve(socket, session, controlStream, identity);
    this.#sessionEnds.add(ended);
    void ended.then(() => this.#sessionEnds.delete(ended));
  }

  /** Tells a revoked connector why, then cuts its tunnel at once (sessions included). */
  revoke(connectorId: string): void {
    const tunnel = this.#options.registry.get(connectorId);
    if (!tunnel) return;
    const err = controlErrors.connectorDeleted(connectorId);
    tunnel.control.send(makeMessage({ type: 'error', code: err.code, message: err.message }));
    this.#options.registry.remove(tunnel);
    setTimeout(() => tunnel.session.destroy(), 100).unref();
  }

  /** Sends fresh `config` (destinations, health checks, discovery) to a group's connectors, or all. */
  pushConfig(group?: string): void {
    for (const tunnel of this.#options.registry.list(group)) this.#control.sendConfig(tunnel);
  }
}

/** Ends a connection after what was written to it; cuts it if the peer does not close soon. */
function endSocket(socket: tls.TLSSocket): void {
  socket.end();
  setTimeout(() => socket.destroy(), 500).unref();
}
