import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { TUNNEL_ALPN, makeMessage, type Identifiers, type Message } from '../protocol/index.js';
import { MessageChannel, MuxSession, type MuxStream } from '../tunnel/index.js';
import { directSocketReads } from '../traffic/index.js';
import { PosternError, definedProps, type Clock } from '../core/index.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import { handleDataStream, type SessionCounters } from './data-stream-handler.js';
import { connectToEdge } from './edge-connection.js';
import { connectorErrors } from './errors.js';
import { GroupWork } from './group-work.js';
import type { ConnectorIdentityFiles } from './identity-store.js';
import type { TargetPolicy } from './target-policy.js';

const WELCOME_TIMEOUT_MS = 10_000;

/** How one tunnel to one edge is opened. */
export interface EdgeTunnelOptions {
  readonly address: string;
  readonly version: string;
  readonly hostname: string;
  readonly privateIp: string;
  readonly identifiers: Identifiers;
  /** Edge ids already held: an edge among them answers with a welcome only (a duplicate). */
  readonly heldEdges?: readonly string[] | undefined;
  readonly logger: Logger;
  readonly counters: SessionCounters;
  readonly keepAliveIntervalMs?: number | undefined;
  readonly keepAliveTimeoutMs?: number | undefined;
  /** Time for health checks and discovery; default the system clock. */
  readonly clock?: Clock | undefined;
  /** Longest silence about one health check before its result is sent again; default 30 s. */
  readonly healthHeartbeatMs?: number | undefined;
  /** Counts control messages, sessions, bytes, dial failures and checks; default none. */
  readonly metrics?: ConnectorMetrics | undefined;
}

interface EdgeTunnelEvents {
  close: [Error | undefined];
  config: [Message<'config'>];
  /** The edge's view of the live HA set changed. */
  edges: [Message<'edges'>];
  /** The edge reported an error about the tunnel itself (for example: this connector was revoked). */
  refused: [PosternError];
  /** An administrator drained (true) or undrained (false) this connector on that edge. */
  drained: [boolean];
}

/**
 * One connector ↔ edge tunnel: mTLS, a mux session (the connector is the client), a
 * control stream (hello → welcome, config, renewals, drain, health and discovery reports) and
 * data streams the edge opens. The group's health checks and discovery run while it is up.
 */
export class EdgeTunnel extends EventEmitter<EdgeTunnelEvents> {
  readonly session: MuxSession;
  readonly welcome: Message<'welcome'>;
  readonly #control: MessageChannel;
  readonly #renewals = new Map<
    number,
    { resolve: (pem: string) => void; reject: (err: Error) => void }
  >();
  readonly #work: GroupWork;
  readonly #metrics: ConnectorMetrics | undefined;
  #nextRequestId = 1;
  #drainedByEdge = false;

  private constructor(
    session: MuxSession,
    control: MessageChannel,
    welcome: Message<'welcome'>,
    options: EdgeTunnelOptions,
  ) {
    super();
    this.session = session;
    this.#control = control;
    this.welcome = welcome;
    this.#metrics = options.metrics;
    this.#work = new GroupWork({
      logger: options.logger,
      // Advertised identifiers are dial permission too (Konnectivity routing, identifier-grant.ts).
      identifiers: options.identifiers,
      clock: options.clock,
      healthHeartbeatMs: options.healthHeartbeatMs,
      metrics: options.metrics,
      onHealth: (report) => this.#send(makeMessage({ type: 'health', ...report })),
      onDiscovered: (report) =>
        this.#send(
          makeMessage({ type: 'discovered', ...report, addresses: [...report.addresses] }),
        ),
      onApplicationHealth: (report) => {
        options.metrics?.applicationHealth.inc({ state: report.state });
        this.#send(makeMessage({ type: 'app_health', ...report }));
      },
    });
  }

  /** Connects, says hello and waits for the edge's welcome (or its refusal, as a coded error). */
  static async open(
    identity: ConnectorIdentityFiles,
    options: EdgeTunnelOptions,
  ): Promise<EdgeTunnel> {
    const socket = await connectToEdge(options.address, {
      alpn: TUNNEL_ALPN,
      caPem: identity.caPem,
      certPem: identity.certPem,
      keyPem: identity.keyPem,
    });
    const session = new MuxSession(socket, {
      role: 'client',
      directReads: directSocketReads,
      // Each data stream's ACK rides on its dial result.
      ackWithFirstFrame: true,
      ...definedProps({
        keepAliveIntervalMs: options.keepAliveIntervalMs,
        keepAliveTimeoutMs: options.keepAliveTimeoutMs,
      }),
    });
    session.on('error', () => undefined);
    const control = new MessageChannel(session.openStream());
    options.metrics?.controlMessage('sent', 'hello');
    control.send(
      makeMessage({
        type: 'hello',
        connectorId: identity.connectorId,
        group: identity.group,
        version: options.version,
        ephemeral: identity.ephemeral,
        hostname: options.hostname,
        privateIp: options.privateIp,
        heldEdges: [...(options.heldEdges ?? [])],
        identifiers: options.identifiers,
      }),
    );
    const early: Message[] = [];
    let welcome: Message<'welcome'>;
    try {
      welcome = await waitForWelcome(control, early, options.address);
    } catch (err) {
      session.destroy();
      throw err;
    }
    control.removeAllListeners('message');
    options.metrics?.controlMessage('received', 'welcome');
    const tunnel = new EdgeTunnel(session, control, welcome, options);
    for (const message of early) tunnel.#onMessage(message);
    tunnel.#start(options);
    return tunnel;
  }

  /** The destinations this connector may currently dial. */
  get policy(): TargetPolicy {
    return this.#work.policy;
  }

  /** Node × monitor health checks this tunnel runs for the edge. */
  get healthChecks(): number {
    return this.#work.checks;
  }

  /** Sends discovered Kubernetes Services to the edge; false when the tunnel has closed. */
  reportKubernetesServices(message: Message<'kubernetes_services'>): boolean {
    return this.#send(message);
  }

  /** Whether the edge said an administrator drained this connector (no new sessions come). */
  get drainedByEdge(): boolean {
    return this.#drainedByEdge;
  }

  /** Tells the edge to send no new sessions here; false when the tunnel had closed already. */
  drain(): boolean {
    return this.#send(makeMessage({ type: 'drain' }));
  }

  /**
   * Ends the control stream, then closes the session once data streams have finished; with
   * `timeoutMs`, streams still open after that long are cut (the session is destroyed).
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#control.end();
    const closing = this.session.close();
    if (options.timeoutMs === undefined) return closing;
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.session.destroy();
        resolve();
      }, options.timeoutMs);
    });
    await Promise.race([closing, cut]);
    clearTimeout(timer);
  }

  /** Asks the edge for a certificate for a new key (renewal over the tunnel). */
  renew(csrPem: string, timeoutMs = 30_000): Promise<string> {
    const requestId = this.#nextRequestId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#renewals.delete(requestId);
        reject(connectorErrors.enrollmentProtocol('edge', 'no answer to the renewal request'));
      }, timeoutMs);
      this.#renewals.set(requestId, {
        resolve: (pem) => (clearTimeout(timer), resolve(pem)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      if (!this.#send(makeMessage({ type: 'renew', requestId, csrPem }))) {
        this.#renewals.delete(requestId);
        clearTimeout(timer);
        reject(connectorErrors.enrollmentProtocol('edge', 'the tunnel closed'));
      }
    });
  }

  #start(options: EdgeTunnelOptions): void {
    const log = options.logger;
    this.#control.on('message', (m) => this.#onMessage(m));
    this.session.on('stream', (stream: MuxStream) => {
      void handleDataStream(stream, {
        policy: () => this.#work.policy,
        logger: log,
        counters: options.counters,
        metrics: options.metrics,
        onDialed: (target) => this.#work.accessed(target),
      });
    });
    this.session.once('close', (err?: Error) => {
      this.#work.stop();
      for (const pending of this.#renewals.values())
        pending.reject(err ?? new Error('tunnel closed'));
      this.#renewals.clear();
      this.emit('close', err);
    });
  }

  /** Sends on the control stream, counting what was sent; false once the stream has closed. */
  #send(message: Message): boolean {
    const sent = this.#control.send(message);
    if (sent) this.#metrics?.controlMessage('sent', message.type);
    return sent;
  }

  #onMessage(message: Message): void {
    this.#metrics?.controlMessage('received', message.type);
    switch (message.type) {
      case 'config':
        this.#work.apply(message);
        this.emit('config', message);
        return;
      case 'edges':
        this.emit('edges', message);
        return;
      case 'drain':
      case 'undrain':
        this.#drainedByEdge = message.type === 'drain';
        this.emit('drained', this.#drainedByEdge);
        return;
      case 'renewed':
        this.#renewals.get(message.requestId)?.resolve(message.certPem);
        this.#renewals.delete(message.requestId);
        return;
      case 'error':
        if (message.requestId !== undefined) {
          this.#renewals
            .get(message.requestId)
            ?.reject(new PosternError(message.code, message.message));
          this.#renewals.delete(message.requestId);
        } else {
          this.emit('refused', new PosternError(message.code, message.message));
        }
        return;
      default:
        return;
    }
  }
}

/** Collects every control message until the welcome (or a refusal) arrives; later ones stay collected. */
function waitForWelcome(
  control: MessageChannel,
  early: Message[],
  address: string,
): Promise<Message<'welcome'>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(connectorErrors.enrollmentProtocol(address, 'no welcome from the edge')),
      WELCOME_TIMEOUT_MS,
    );
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    };
    control.on('message', (message) => {
      if (settled) {
        early.push(message);
      } else if (message.type === 'welcome') {
        settled = true;
        clearTimeout(timer);
        resolve(message);
      } else if (message.type === 'error') {
        fail(new PosternError(message.code, message.message));
      } else {
        early.push(message);
      }
    });
    control.once('close', (err) =>
      fail(
        err ??
          connectorErrors.enrollmentProtocol(
            address,
            'the edge closed the tunnel before welcoming it',
          ),
      ),
    );
  });
}
