import type tls from 'node:tls';
import type { Logger } from 'pino';
import { makeMessage, type Message } from '../protocol/index.js';
import type { ConnectorIdentity } from '../pki/index.js';
import { MessageChannel, type MuxSession, type MuxStream } from '../tunnel/index.js';
import type { EnrollmentAuthority } from '../control/index.js';
import { handleConnectorMessage, type ConnectorReportSinks } from './connector-messages.js';
import type { ConnectorRegistry, ConnectorTunnel } from './connector-registry.js';
import type { ConnectorConfig } from './group-config.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { EdgeView } from './edge-membership.js';
import { edgeErrors } from './errors.js';

/** How the edge talks with its connectors over their control streams. */
export interface TunnelControlOptions extends ConnectorReportSinks {
  readonly serverId: string;
  /** The live HA set told to connectors in `welcome`; default this edge alone. */
  readonly edgeView?: (() => EdgeView) | undefined;
  readonly authority: EnrollmentAuthority;
  readonly registry: ConnectorRegistry;
  readonly metrics: EdgeMetrics;
  readonly logger: Logger;
  /** What a group's connectors are told in `config`: destinations, health checks, discovery. */
  readonly configFor: (group: string) => ConnectorConfig;
}

/** What the tunnel listener tells the control side about itself. */
export interface ListenerState {
  /** Bound on the hello after the control stream opened. */
  readonly helloTimeoutMs: number;
  /** Whether the port has shut (go-away): a tunnel accepted just before must look elsewhere. */
  readonly closing: () => boolean;
}

/**
 * The control stream of each admitted tunnel: waits for the hello, registers the tunnel
 * (replacing the connector's previous one), sends `welcome` and `config`, answers the
 * connector's messages, and records the connection and its end in the store.
 */
export class TunnelControl {
  readonly #o: TunnelControlOptions;
  readonly #state: ListenerState;

  constructor(options: TunnelControlOptions, state: ListenerState) {
    this.#o = options;
    this.#state = state;
  }

  /**
   * Serves the control stream `stream` of an admitted connector's session; resolves once the
   * session closed and its end is in the store.
   */
  serve(
    socket: tls.TLSSocket,
    session: MuxSession,
    stream: MuxStream,
    identity: ConnectorIdentity,
  ): Promise<void> {
    const { metrics } = this.#o;
    const control = new MessageChannel(stream);
    const log = this.#o.logger.child({ connector: identity.connectorId, group: identity.group });
    const helloMs = this.#state.helloTimeoutMs;
    const messages = { ...this.#o, log };
    const helloTimer = setTimeout(() => session.destroy(edgeErrors.noHello()), helloMs);
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
        if (message.heldEdges.includes(this.#o.serverId)) {
          // A second tunnel through the load balancer: say who we are and keep the first one.
          control.send(this.#welcome());
          setTimeout(() => session.destroy(), helloMs).unref();
          return;
        }
        tunnel = this.#register(socket, session, control, identity, message);
        log.info({ remote: tunnel.remoteAddress, version: message.version }, 'connector tunnel up');
        return;
      }
      retire = handleConnectorMessage(tunnel, message, messages) || retire;
    });
    session.on('stream', (extra: MuxStream) => extra.destroy());
    // The connector ending its control stream means it is leaving: finish the session gracefully.
    control.once('close', () => {
      control.end();
      void session.close();
    });
    return new Promise<void>((resolve) => {
      session.once('close', () => {
        clearTimeout(helloTimer);
        control.destroy();
        if (!tunnel) return resolve();
        this.#o.registry.remove(tunnel);
        log.info({ draining: tunnel.draining }, 'connector tunnel down');
        void this.#recordEnd(tunnel, retire, log).finally(resolve);
      });
    });
  }

  /** Sends fresh `config` (destinations, health checks, discovery) to a connector. */
  sendConfig(tunnel: ConnectorTunnel): void {
    try {
      tunnel.control.send(makeMessage({ type: 'config', ...this.#o.configFor(tunnel.group) }));
    } catch (err) {
      // Too large a message for the control stream; the connector keeps its previous config.
      this.#o.logger.error(
        { group: tunnel.group, connector: tunnel.connectorId, err: (err as Error).message },
        'cannot send configuration to a connector',
      );
    }
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
    const previous = this.#o.registry.add(tunnel);
    previous?.session.goAway();
    control.send(this.#welcome());
    this.sendConfig(tunnel);
    // Accepted just before the port shut: it must look elsewhere too.
    if (this.#state.closing()) session.goAway();
    void this.#o.authority
      .recordSeen(identity.connectorId, {
        connected: true,
        version: hello.version,
        hostname: hello.hostname,
        privateIp: hello.privateIp,
        publicIp: socket.remoteAddress ?? '',
      })
      .catch((err: unknown) =>
        this.#o.logger.warn({ err: (err as Error).message }, 'could not record tunnel status'),
      );
    return tunnel;
  }

  /** Records a tunnel's end; removes an ephemeral connector that said it is leaving for good. */
  async #recordEnd(tunnel: ConnectorTunnel, retire: boolean, log: Logger): Promise<void> {
    const { authority } = this.#o;
    try {
      await authority.recordSeen(tunnel.connectorId, { connected: false });
      if (retire && tunnel.hello.ephemeral) await authority.retireEphemeral(tunnel.connectorId);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not record tunnel end');
    }
  }

  #welcome(): Message<'welcome'> {
    const view = this.#o.edgeView?.() ?? { serverId: this.#o.serverId, serverCount: 1, peers: [] };
    return makeMessage({
      type: 'welcome',
      serverId: this.#o.serverId,
      serverCount: view.serverCount,
      peers: [...view.peers],
    });
  }
}
