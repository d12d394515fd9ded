import { EventEmitter } from 'node:events';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { Backoff, isPosternError, systemClock, type Clock } from '../core/index.js';
import { parseProvisioningKey, type Identifiers } from '../protocol/index.js';
import { generateKeyPairAndCsr, renewalTime } from '../pki/index.js';
import { enroll } from './enrollment-client.js';
import { EdgeTunnel } from './edge-tunnel.js';
import { EdgeSupervisor } from './edge-supervisor.js';
import { IdentityStore, type ConnectorIdentityFiles } from './identity-store.js';
import { connectorErrors } from './errors.js';
import { ConnectorMetrics } from './connector-metrics.js';
import type { SessionCounters } from './data-stream-handler.js';
import { KubernetesDiscovery, type KubernetesDiscoveryOptions } from './kubernetes/index.js';
import { X509Certificate } from 'node:crypto';

/** How a connector runs. */
export interface ConnectorOptions {
  /** Where the identity is kept. */
  readonly stateDir: string;
  /** Needed only until the first enrollment (and to re-enroll after the certificate expired offline). */
  readonly provisionKey?: string | undefined;
  readonly ephemeral?: boolean;
  readonly version: string;
  readonly logger: Logger;
  readonly identifiers?: Partial<Identifiers>;
  /**
   * Edge address override; default: the address in the enrollment key. One address (a load
   * balancer) is dialed until a tunnel is held to every live edge of the HA set.
   */
  readonly edgeAddress?: string | undefined;
  /** An explicit list of edges instead (one tunnel kept to each); overrides `edgeAddress`. */
  readonly edgeAddresses?: readonly string[] | undefined;
  /** Behind one address: wait after reaching an edge already held; default 1 s. */
  readonly syncIntervalMs?: number | undefined;
  readonly keepAliveIntervalMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly backoff?: Backoff;
  /** Time for health checks and discovery; default the system clock. */
  readonly clock?: Clock;
  /**
   * Longest silence about one health check: results that cannot change the edge's view are
   * sent only this often. Default 30 s.
   */
  readonly healthHeartbeatMs?: number;
  /** Discover annotated Kubernetes Services and report them to the edge; default off. */
  readonly kubernetesDiscovery?: Omit<KubernetesDiscoveryOptions, 'logger'> | undefined;
  /** Where the connector counts (served at `/metrics` by the probe listener); default a new one. */
  readonly metrics?: ConnectorMetrics | undefined;
}

interface ConnectorEvents {
  /** A tunnel to one more edge is up. */
  connected: [EdgeTunnel];
  /** A tunnel left the set (closed, go-away, or its edge left the HA set). */
  disconnected: [Error | undefined];
  /** A tunnel attempt failed (before it was up); the connector retries with backoff. */
  tunnelError: [Error];
  /** The edge no longer accepts this connector (deleted by an administrator); it has stopped. */
  revoked: [Error];
}

/** Refusals that no retry can cure: the identity itself is gone. */
const REVOCATION_CODES = new Set([
  'POSTERN_ERR_CONNECTOR_REVOKED',
  'POSTERN_ERR_CONNECTOR_UNKNOWN',
]);

/**
 * A running connector: enrolls once, keeps a tunnel to the edge (jittered backoff on
 * failure), renews its certificate over the tunnel, and drains on stop.
 */
export class Connector extends EventEmitter<ConnectorEvents> {
  readonly counters: SessionCounters = { active: 0, total: 0, failed: 0 };
  /** The connector's Prometheus metrics. */
  readonly metrics: ConnectorMetrics;
  readonly #options: ConnectorOptions;
  readonly #store: IdentityStore;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  #identity: ConnectorIdentityFiles | undefined;
  #tunnel: EdgeTunnel | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #supervisor: EdgeSupervisor | undefined;
  #discovery: KubernetesDiscovery | undefined;

  constructor(options: ConnectorOptions) {
    super();
    this.#options = options;
    this.#store = new IdentityStore(options.stateDir);
    this.#log = options.logger;
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 1000, factor: 1.5, maxMs: 10_000 });
    this.metrics = options.metrics ?? new ConnectorMetrics();
    const clock = options.clock ?? systemClock;
    this.metrics.attach({
      heldEdges: () => this.tunnels.keys(),
      knownEdges: () => this.#supervisor?.known.serverIds ?? [],
      openStreams: () => this.counters.active,
      identity: () => this.#identity,
      now: () => clock.now(),
    });
  }

  /** The enrolled identity (after start). */
  get identity(): ConnectorIdentityFiles | undefined {
    return this.#identity;
  }

  /** One current tunnel (the first of the set), if connected. */
  get tunnel(): EdgeTunnel | undefined {
    return this.#tunnel;
  }

  /** Tunnels by edge server id: one per live edge of the HA set that is reachable. */
  get tunnels(): ReadonlyMap<string, EdgeTunnel> {
    return this.#supervisor?.tunnels ?? new Map<string, EdgeTunnel>();
  }

  /** How many edges the HA set has, as the edges last said. */
  get serverCount(): number {
    return this.#supervisor?.known.serverCount ?? 0;
  }

  /** Loads or creates the identity, then keeps the tunnel up until stop(). */
  async start(): Promise<void> {
    this.#identity = (await this.#store.load()) ?? (await this.#enrollPatiently());
    this.#backoff.reset();
    this.#log.info(
      { connector: this.#identity.connectorId, group: this.#identity.group },
      'connector identity ready',
    );
    this.#startDiscovery();
    this.#startSupervisor();
  }

  /** Kubernetes discovery reports every snapshot to every edge's tunnel and each new one. */
  #startDiscovery(): void {
    const options = this.#options.kubernetesDiscovery;
    if (!options) return;
    const discovery = new KubernetesDiscovery({ ...options, logger: this.#log });
    this.#discovery = discovery;
    const send = (tunnel: EdgeTunnel, messages = discovery.messages()): void => {
      for (const m of messages) if (!tunnel.reportKubernetesServices(m)) return;
    };
    // Each edge keeps what its own tunnels reported, so every edge of an HA set hears it all.
    discovery.on('snapshot', (messages) => {
      this.metrics.kubernetesSnapshot(messages);
      for (const tunnel of this.tunnels.values()) send(tunnel, messages);
    });
    this.on('connected', (tunnel) => send(tunnel));
    discovery.start();
  }

  /** Resolves once a tunnel is up. */
  waitConnected(timeoutMs = 10_000): Promise<EdgeTunnel> {
    if (this.#tunnel) return Promise.resolve(this.#tunnel);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`connector not connected within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.once('connected', (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }

  /**
   * Drains: tells the edge to send no new sessions, lets sessions in flight finish (bounded
   * by `drainTimeoutMs`), then closes the tunnel.
   */
  async stop(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.#stop.abort();
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    await this.#discovery?.stop();
    const stopped = this.#supervisor?.stop();
    const tunnels = this.#supervisor?.openTunnels ?? [];
    for (const tunnel of tunnels) tunnel.drain();
    if (tunnels.length > 0) {
      const deadline = Date.now() + (options.drainTimeoutMs ?? 30_000);
      while (this.counters.active > 0 && Date.now() < deadline) await delay(50);
      await Promise.all(tunnels.map((t) => t.close().catch(() => undefined)));
    }
    await stopped;
  }

  /** Stops for good after a revocation: retrying with a revoked identity cannot succeed. */
  #halt(err: Error): void {
    if (this.#stop.signal.aborted) return;
    this.#log.error(
      { code: (err as { code?: string }).code, err: err.message },
      'connector revoked; stopping (enroll again with a provisioning key to come back)',
    );
    this.#stop.abort();
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    void this.#supervisor?.stop();
    this.emit('revoked', err);
  }

  /**
   * Enrolls, retrying with backoff while the edge cannot be reached (it may start after the
   * connector, as pods do); a refused key or a broken exchange fails at once.
   */
  async #enrollPatiently(): Promise<ConnectorIdentityFiles> {
    for (;;) {
      try {
        return await this.#enroll();
      } catch (err) {
        if (!isPosternError(err, 'POSTERN_ERR_EDGE_UNREACHABLE') || this.#stop.signal.aborted)
          throw err;
        const wait = this.#backoff.next();
        this.#log.warn(
          { code: err.code, err: err.message, retryInMs: wait },
          'edge unreachable; will enroll when it answers',
        );
        await delay(wait, this.#stop.signal);
        if (this.#stop.signal.aborted) throw err;
      }
    }
  }

  async #enroll(): Promise<ConnectorIdentityFiles> {
    if (!this.#options.provisionKey) throw connectorErrors.noProvisioningKey();
    const key = parseProvisioningKey(this.#options.provisionKey);
    const identity = await enroll(key, {
      version: this.#options.version,
      ephemeral: this.#options.ephemeral ?? false,
    });
    await this.#store.save(identity);
    return identity;
  }

  /** Keeps a tunnel to every edge (see EdgeSupervisor) until stop() or a revocation. */
  #startSupervisor(): void {
    const o = this.#options;
    const addresses =
      o.edgeAddresses !== undefined && o.edgeAddresses.length > 0
        ? o.edgeAddresses
        : [o.edgeAddress ?? this.#identity!.edgeAddress];
    const supervisor = new EdgeSupervisor({
      addresses,
      open: (address, heldEdges) => this.#openTunnel(address, heldEdges),
      // One address shares the connector's backoff; each address of a list gets its own.
      newBackoff:
        addresses.length === 1
          ? () => this.#backoff
          : () => new Backoff({ initialMs: 1000, factor: 1.5, maxMs: 10_000 }),
      duplicateDelayMs: o.syncIntervalMs,
      logger: this.#log,
    });
    supervisor.on('connected', (tunnel) => {
      this.#log.info(
        { edge: tunnel.welcome.serverId, tunnels: supervisor.tunnels.size },
        'tunnel up',
      );
      this.#tunnel ??= tunnel;
      this.metrics.tunnelEvents.inc({ event: 'connected' });
      this.emit('connected', tunnel);
      if (this.#renewTimer === undefined) this.#scheduleRenewal();
    });
    supervisor.on('disconnected', (tunnel, err) => {
      if (this.#tunnel === tunnel) this.#tunnel = supervisor.tunnels.values().next().value;
      this.metrics.tunnelEvents.inc({ event: 'disconnected' });
      this.emit('disconnected', err);
    });
    supervisor.on('tunnelError', (err) => {
      this.metrics.tunnelEvents.inc({ event: 'failed' });
      this.#log.warn(
        { err: err.message, code: (err as { code?: string }).code },
        'edge tunnel attempt failed; retrying',
      );
    });
    this.#supervisor = supervisor;
    supervisor.start();
  }

  /** Opens one tunnel; re-enrolls when the certificate expired offline, halts on revocation. */
  async #openTunnel(address: string, heldEdges: readonly string[]): Promise<EdgeTunnel> {
    const identity = this.#identity!;
    let tunnel: EdgeTunnel;
    try {
      tunnel = await EdgeTunnel.open(identity, {
        ...this.#tunnelOptions(identity),
        address,
        heldEdges,
      });
    } catch (err) {
      if (
        isPosternError(err, 'POSTERN_ERR_TUNNEL_CERT_REJECTED') &&
        this.#certificateExpired() &&
        this.#options.provisionKey
      ) {
        this.#log.warn(
          'certificate expired while offline; enrolling again with the provisioning key',
        );
        this.#identity = await this.#enroll().catch(() => identity);
      }
      this.emit('tunnelError', err as Error);
      if (isRevocation(err)) this.#halt(err as Error);
      throw err;
    }
    tunnel.on('refused', (err) => {
      this.#log.error({ code: err.code, err: err.message }, 'the edge refused this connector');
      if (isRevocation(err)) this.#halt(err);
    });
    return tunnel;
  }

  #tunnelOptions(identity: ConnectorIdentityFiles) {
    const o = this.#options;
    return {
      address: o.edgeAddress ?? identity.edgeAddress,
      version: o.version,
      hostname: osHostname(),
      privateIp: firstPrivateIp(),
      identifiers: {
        host: [],
        ipv4: [],
        ipv6: [],
        cidr: [],
        defaultRoute: false,
        ...o.identifiers,
      },
      logger: this.#log,
      counters: this.counters,
      keepAliveIntervalMs: o.keepAliveIntervalMs,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs,
      clock: o.clock,
      healthHeartbeatMs: o.healthHeartbeatMs,
      metrics: this.metrics,
    };
  }

  #certificateExpired(): boolean {
    const cert = new X509Certificate(this.#identity!.certPem);
    return new Date(cert.validTo).getTime() <= Date.now();
  }

  #scheduleRenewal(): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    const cert = new X509Certificate(this.#identity!.certPem);
    const at = renewalTime({
      notBefore: new Date(cert.validFrom),
      notAfter: new Date(cert.validTo),
    }).getTime();
    const wait = Math.min(Math.max(at - Date.now(), 1000), 2 ** 31 - 1);
    this.#renewTimer = setTimeout(
      () =>
        void this.renewCertificate().catch((err: unknown) => {
          this.#log.warn({ err: (err as Error).message }, 'certificate renewal failed; will retry');
          this.#renewTimer = setTimeout(() => this.#scheduleRenewal(), 60_000);
        }),
      wait,
    );
    this.#renewTimer.unref();
  }

  /** Renews the certificate now over the current tunnel, with a new key pair. */
  async renewCertificate(): Promise<void> {
    const tunnel = this.#tunnel;
    if (!tunnel) throw connectorErrors.enrollmentProtocol('edge', 'not connected');
    const { keyPem, csrPem } = await generateKeyPairAndCsr({ commonName: 'postern-connector' });
    const certPem = await tunnel.renew(csrPem);
    await this.#store.saveRenewed(keyPem, certPem);
    this.#identity = { ...this.#identity!, keyPem, certPem };
    this.#log.info({ notAfter: new X509Certificate(certPem).validTo }, 'certificate renewed');
    this.#scheduleRenewal();
  }
}

function isRevocation(err: unknown): boolean {
  return REVOCATION_CODES.has((err as { code?: string } | undefined)?.code ?? '');
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

function firstPrivateIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return '';
}
