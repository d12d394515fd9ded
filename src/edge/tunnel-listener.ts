import tls from 'node:tls';
import type { Logger } from 'pino';
import { definedProps, isPosternError, systemClock, type PosternError } from '../core/index.js';
import {
  ENROLL_ALPN,
  TUNNEL_ALPN,
  TUNNEL_CIPHERS,
  makeMessage,
  type Message,
} from '../protocol/index.js';
import { parseConnectorIdentity, type ConnectorIdentity } from '../pki/index.js';
import { MessageChannel, MuxSession, type MuxStream } from '../tunnel/index.js';
import type { ConnectorRegistry, ConnectorTunnel } from './connector-registry.js';
import type { ConnectorConfig } from './group-config.js';
import type { RemoteReport, Reporter } from './remote-reports.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { EdgeView } from './edge-membership.js';
import { edgeErrors } from './errors.js';
import { serveEnrollment } from './enrollment-handler.js';
import { EnrollmentGuard } from './enrollment-guard.js';
import { refuseTunnel } from './tunnel-refusal.js';
import { controlErrors, type EnrollmentAuthority } from '../control/index.js';

/** How long close() waits, after cutting the tunnels, for their ends to be written to the store. */
const END_RECORDS_WAIT_MS = 2000;

/** How the tunnel listener is set up. */
export interface TunnelListenerOptions {
  readonly serverId: string;
  /** The live HA set told to connectors in `welcome`; default this edge alone. */
  readonly edgeView?: (() => EdgeView) | undefined;
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
  readonly authority: EnrollmentAuthority;
  readonly registry: ConnectorRegistry;
  readonly metrics: EdgeMetrics;
  readonly logger: Logger;
  /** What a group's connectors are told in `config`: destinations, health checks, discovery. */
  readonly configFor: (group: string) => ConnectorConfig;
  /** Receives connectors' health and discovery reports (must not throw). */
  readonly onReport?: ((reporter: Reporter, report: RemoteReport) => void) | undefined;
  /** Receives connectors' discovered Kubernetes Services (must not throw). */
  readonly onKubernetesServices?:
    ((reporter: Reporter, message: Message<'kubernetes_services'>) => void) | undefined;
  /** Receives connectors' application health reports (must not throw). */
  readonly onApplicationHealth?:
    ((reporter: Reporter, message: Message<'app_health'>) => void) | undefined;
  readonly keepAliveIntervalMs?: number | undefined;
  readonly keepAliveTimeoutMs?: number | undefined;
  /** Bound on the TLS handshake, the control stream and the hello. Default 10 s. */
  readonly handshakeTimeoutMs?: number | undefined;
  /** Limits failed enrollments and sums their log lines; default one on the system clock. */
  readonly enrollmentGuard?: EnrollmentGuard | undefined;
}

/**
 * The port connectors dial: TLS 1.3, ALPN chooses enrollment (no certificate yet) or a
 * tunnel (client certificate from the edge CA required, checked again against the store).
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
  #closed: Promise<void> | undefined;

  constructor(options: TunnelListenerOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#handshakeMs = options.handshakeTimeoutMs ?? 10_000;
    this.#guard =
      options.enrollmentGuard ?? new EnrollmentGuard({ clock: systemClock, logger: this.#log });
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
    const { metrics } = this.#options;
    let identity: ConnectorIdentity | undefined;
    let refusal: PosternError | undefined;
    if (!socket.authorized) {
      refusal = edgeErrors.certificateRejected(
        String(socket.authorizationError ?? 'no client certificate'),
      );
    } else {
      try {
        identity = parseConnectorIdentity(socket.getPeerCertificate().raw);
        await this.#options.authority.admit(identity);
      } catch (err) {
        refusal = isPosternError(err)
          ? err
          : edgeErrors.certificateRejected((err as Error).message);
      }
    }
    if (refusal || !identity) {
      await this.#refuse(socket, refusal ?? edgeErrors.certificateRejected('no identity'));
      return;
    }
    const session = new MuxSession(socket, {
      role: 'server',
      logger: this.#log.child({ remote: `${socket.remoteAddress}:${socket.remotePort}` }),
      maxStreams: 100_000,
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
    this.#serve(socket, session, controlStream, identity);
  }

  /**
   * Tells a refused peer why on its control stream and closes, without a yamux session: an
   * unauthenticated peer gets no streams acknowledged and no frames parsed (see tunnel-refusal.ts).
   */
  async #refuse(socket: tls.TLSSocket, err: PosternError): Promise<void> {
    const outcome = await refuseTunnel(socket, err, { timeoutMs: this.#handshakeMs });
    if (outcome === 'no_control_stream') {
      this.#options.metrics.tunnelRejections.inc({ reason: 'no_control_stream' });
      return;
    }
    this.#options.metrics.tunnelRejections.inc({ reason: err.code });
    this.#log.warn(
      { remote: socket.remoteAddress, reason: err.code, err: err.message },
      'tunnel refused',
    );
  }

  #serve(
    socket: tls.TLSSocket,
    session: MuxSession,
    stream: MuxStream,
    identity: ConnectorIdentity,
  ): void {
    const { registry, metrics } = this.#options;
    const control = new MessageChannel(stream);
    const log = this.#log.child({ connector: identity.connectorId, group: identity.group });
    const helloTimer = setTimeout(() => session.destroy(edgeErrors.noHello()), this.#handshakeMs);
    let tunnel: ConnectorTunnel | undefined;
    let retire = false;
    control.on('message', (message) => {
      if (!tunnel) {
        clearTimeout(helloTimer);
        if (message.type !== 'hello') {
          metrics.tunnelRejections.inc({ reason: 'no_hello' });
          session.destroy(edgeErrors.noHello());
          return;
        }
        if (message.heldEdges.includes(this.#options.serverId)) {
          // A second tunnel through the load balancer: say who we are and keep the first one.
          control.send(this.#welcome());
          setTimeout(() => session.destroy(), this.#handshakeMs).unref();
          return;
        }
        tunnel = this.#register(socket, session, control, identity, message);
        log.info({ remote: tunnel.remoteAddress, version: message.version }, 'connector tunnel up');
        return;
      }
      retire = this.#onControlMessage(tunnel, message, log) || retire;
    });
    session.on('stream', (extra: MuxStream) => extra.destroy());
    // The connector ending its control stream means it is leaving: finish the session gracefully.
    control.once('close', () => {
      control.end();
      void session.close();
    });
    // Settles once the session closed and its end is in the store; close() waits for it.
    const ended = new Promise<void>((resolve) => {
      session.once('close', () => {
        clearTimeout(helloTimer);
        control.destroy();
        if (!tunnel) return resolve();
        registry.remove(tunnel);
        log.info({ draining: tunnel.draining }, 'connector tunnel down');
        const done = tunnel;
        this.#options.authority
          .recordSeen(done.connectorId, { connected: false })
          .then(() =>
            retire && done.hello.ephemeral
              ? this.#options.authority.retireEphemeral(done.connectorId)
              : undefined,
          )
          .catch((err: unknown) =>
            log.warn({ err: (err as Error).message }, 'could not record tunnel end'),
          )
          .finally(resolve);
      });
    });
    this.#sessionEnds.add(ended);
    void ended.then(() => this.#sessionEnds.delete(ended));
  }

  #register(
    socket: tls.TLSSocket,
    session: MuxSession,
    control: MessageChannel,
    identity: ConnectorIdentity,
    hello: Message<'hello'>,
  ): ConnectorTunnel {
    const tunnel: ConnectorTunnel = {
      // The certificate is the authority on who this is; the hello only adds details.
      connectorId: identity.connectorId,
      group: identity.group,
      session,
      control,
      hello,
      remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
      connectedAt: Date.now(),
      draining: false,
      activeSessions: 0,
      sessionsOpened: 0,
      bytesToConnector: 0,
      bytesFromConnector: 0,
    };
    const previous = this.#options.registry.add(tunnel);
    previous?.session.goAway();
    control.send(this.#welcome());
    this.#sendConfig(tunnel);
    // Accepted just before the port shut: it must look elsewhere too.
    if (this.#closed) session.goAway();
    void this.#options.authority
      .recordSeen(identity.connectorId, {
        connected: true,
        version: hello.version,
        hostname: hello.hostname,
        privateIp: hello.privateIp,
        publicIp: socket.remoteAddress ?? '',
      })
      .catch((err: unknown) =>
        this.#log.warn({ err: (err as Error).message }, 'could not record tunnel status'),
      );
    return tunnel;
  }

  #welcome(): Message<'welcome'> {
    const view = this.#options.edgeView?.() ?? {
      serverId: this.#options.serverId,
      serverCount: 1,
      peers: [],
    };
    return makeMessage({
      type: 'welcome',
      serverId: this.#options.serverId,
      serverCount: view.serverCount,
      peers: [...view.peers],
    });
  }

  /** Handles one control message; returns true when the connector said it is leaving for good. */
  #onControlMessage(tunnel: ConnectorTunnel, message: Message, log: Logger): boolean {
    switch (message.type) {
      case 'drain':
        tunnel.draining = true;
        this.#options.registry.emit('draining', tunnel);
        log.info({ active: tunnel.activeSessions }, 'connector draining');
        return true;
      case 'renew':
        this.#options.authority.renew(tunnel.connectorId, message.csrPem).then(
          (certPem) =>
            tunnel.control.send(
              makeMessage({ type: 'renewed', requestId: message.requestId, certPem }),
            ),
          (err: unknown) => {
            const code = isPosternError(err) ? err.code : 'POSTERN_ERR_INTERNAL';
            log.warn({ reason: code }, 'certificate renewal refused');
            tunnel.control.send(
              makeMessage({
                type: 'error',
                code,
                message: (err as Error).message,
                requestId: message.requestId,
              }),
            );
          },
        );
        return false;
      case 'health':
      case 'discovered':
        try {
          this.#options.onReport?.(tunnel, message);
        } catch (err) {
          log.error({ err }, 'a connector report could not be applied');
        }
        return false;
      case 'kubernetes_services':
        this.#options.onKubernetesServices?.(tunnel, message);
        return false;
      case 'app_health':
        this.#options.onApplicationHealth?.(tunnel, message);
        return false;
      default:
        return false;
    }
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
    for (const tunnel of this.#options.registry.list(group)) this.#sendConfig(tunnel);
  }

  #sendConfig(tunnel: ConnectorTunnel): void {
    try {
      tunnel.control.send(
        makeMessage({ type: 'config', ...this.#options.configFor(tunnel.group) }),
      );
    } catch (err) {
      // Too large a message for the control stream; the connector keeps its previous config.
      this.#log.error(
        { group: tunnel.group, connector: tunnel.connectorId, err: (err as Error).message },
        'cannot send configuration to a connector',
      );
    }
  }
}

/** Ends a connection after what was written to it; cuts it if the peer does not close soon. */
function endSocket(socket: tls.TLSSocket): void {
  socket.end();
  setTimeout(() => socket.destroy(), 500).unref();
}
