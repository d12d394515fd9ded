import { EventEmitter } from 'node:events';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { Backoff, isPosternError, systemClock, type Clock } from '../core/index.js';
import { parseProvisioningKey, type Identifiers } from '../protocol/index.js';
import { generateKeyPairAndCsr, renewalTime } from '../pki/index.js';
import { splitHostPort } from '../traffic/index.js';
import { enroll } from './enrollment-client.js';
import { EdgeTunnel } from './edge-tunnel.js';
import { EdgeSupervisor } from './edge-supervisor.js';
import { IdentityStore, type ConnectorIdentityFiles } from './identity-store.js';
import { connectorErrors } from './errors.js';
import { ConnectorMetrics } from './connector-metrics.js';
import type { SessionCounters } from './data-stream-handler.js';
import { KubernetesDiscovery, type KubernetesDiscoveryOptions } from './kubernetes/index.js';
import { X509Certificate } from 'node:crypto';
import { isRevocation } from './connector-refusals.js';
import { IdentityRecovery } from './identity-recovery.js';
import { AdminDrainWatch } from './admin-drain.js';

/** After the drain, how long a tunnel may take to close before the sessions left are cut. */
const CLOSE_AFTER_DRAIN_MS = 1000;

/** How a connector runs. */
export interface ConnectorOptions {
  /** Where the identity is kept. */
  readonly stateDir: string;
  /**
   * Needed only until the first enrollment, and to enroll again after the certificate expired
   * offline or after an ephemeral connector was removed.
   */
  readonly provisionKey?: string | undefined;
  /**
   * Enroll as ephemeral: on a graceful stop the edge removes the connector and this one
   * deletes its stored identity, so the next start enrolls again with the key. Default false.
   */
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
  /**
   * The connector stopped for good: revoked, unknown, its certificate expired offline with no
   * usable provisioning key, or the key was refused for good. The error says how to fix it.
   */
  halted: [Error];
  /** An administrator drained (true) or undrained (false) this connector at its edges. */
  drained: [boolean];
}

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
  readonly #recovery: IdentityRecovery;
  readonly #adminDrain: AdminDrainWatch;

  constructor(options: ConnectorOptions) {
    super();
    this.#options = options;
    this.#store = new IdentityStore(options.stateDir);
    this.#log = options.logger;
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 1000, factor: 1.5, maxMs: 10_000 });
    this.metrics = options.metrics ?? new ConnectorMetrics();
    this.#recovery = new IdentityRecovery({
      store: this.#store,
      logger: this.#log,
      enroll: options.provisionKey ? () => this.#enroll() : undefined,
    });
    this.#adminDrain = new AdminDrainWatch({
      logger: this.#log,
      tunnels: () => this.tunnels.values(),
      connectorId: () => this.#identity?.connectorId ?? '',
      onChange: (drained) => this.emit('drained', drained),
    });
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

  /**
   * True while an administrator has this connector drained at its edges (the edges send it no
   * new sessions; `postern connectors undrain` lifts it).
   */
  get drained(): boolean {
    return this.#adminDrain.drained;
  }

  /** Loads or creates the identity, then keeps the tunnel up until stop(). */
  async start(): Promise<void> {
    this.#checkEdgeAddresses();
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
    // An ephemeral connector's drain tells the edge to remove it once the tunnel closes.
    const told = tunnels.filter((tunnel) => tunnel.drain()).length > 0;
    if (tunnels.length > 0) {
      const deadline = Date.now() + (options.drainTimeoutMs ?? 30_000);
      while (this.counters.active > 0 && Date.now() < deadline) await delay(50);
      // The drain timeout bounds the whole stop: sessions still open now are cut, after a
      // moment for the closing handshake of those that just finished.
      const timeoutMs = Math.max(CLOSE_AFTER_DRAIN_MS, deadline - Date.now());
      await Promise.all(tunnels.map((t) => t.close({ timeoutMs }).catch(() => undefined)));
    }
    await stopped;
    if (told && this.#identity?.ephemeral) await this.#forgetIdentity(this.#identity);
  }

  /**
   * The edge removes an ephemeral connector that left: its stored identity would be refused
   * (POSTERN_ERR_CONNECTOR_UNKNOWN), so delete it and let the next start enroll again — an
   * emptyDir survives a container restart in the same pod.
   */
  async #forgetIdentity(identity: ConnectorIdentityFiles): Promise<void> {
    try {
      await this.#store.clear();
      this.#log.info(
        { connector: identity.connectorId, stateDir: this.#options.stateDir },
        'ephemeral connector removed at the edge; its stored identity is deleted (the next start enrolls again with the provisioning key)',
      );
    } catch (err) {
      this.#log.warn(
        { err: (err as Error).message, stateDir: this.#options.stateDir },
        'could not delete the ephemeral identity; the next start enrolls again when the edge no longer knows it',
      );
    }
  }

  /** Stops for good: retrying with a revoked, unknown or expired identity cannot succeed. */
  #halt(err: Error): void {
    if (this.#stop.signal.aborted) return;
    const revoked = isRevocation(err);
    this.#log.error(
      { code: (err as { code?: string }).code, err: err.message },
      revoked
        ? 'connector revoked; stopping (enroll again with a provisioning key to come back)'
        : 'the connector cannot continue; stopping',
    );
    this.#stop.abort();
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    void this.#supervisor?.stop();
    if (revoked) this.emit('revoked', err);
    this.emit('halted', err);
  }

  /** `--edge` must be host:port: a malformed address is a mistake no retry cures. */
  #checkEdgeAddresses(): void {
    const o = this.#options;
    const given = [
      ...(o.edgeAddresses ?? []),
      ...(o.edgeAddress === undefined ? [] : [o.edgeAddress]),
    ];
    for (const address of given)
      if (!splitHostPort(address)) throw connectorErrors.badEdgeAddress(address);
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

  /** Takes a renewed or new identity (already stored) that recovered a refused tunnel. */
  #adopt(identity: ConnectorIdentityFiles): void {
    if (this.#identity === identity) return;
    this.#identity = identity;
    // The new certificate renews on its own schedule, set when its first tunnel is up.
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#renewTimer = undefined;
    this.#log.info(
      { connector: identity.connectorId, group: identity.group },
      'connector identity ready',
    );
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
      tunnel.on('drained', () => this.#adminDrain.update());
      this.#adminDrain.update();
      this.emit('connected', tunnel);
      if (this.#renewTimer === undefined) this.#scheduleRenewal();
    });
    supervisor.on('disconnected', (tunnel, err) => {
      if (this.#tunnel === tunnel) this.#tunnel = supervisor.tunnels.values().next().value;
      this.metrics.tunnelEvents.inc({ event: 'disconnected' });
      this.#adminDrain.update();
      this.emit('disconnected', err);
    });
    supervisor.on('tunnelError', (err) => {
      this.metrics.tunnelEvents.inc({ event: 'failed' });
      const code = (err as { code?: string }).code;
      // A refused certificate needs an operator; an unreachable edge is usually transient.
      const level = code === 'POSTERN_ERR_TUNNEL_CERT_REJECTED' ? 'error' : 'warn';
      this.#log[level]({ err: err.message, code }, 'edge tunnel attempt failed; retrying');
    });
    this.#supervisor = supervisor;
    supervisor.start();
  }

  /**
   * Opens one tunnel. Enrolls again with the provisioning key when the certificate expired
   * offline or the edge removed this ephemeral connector (then tries once more); halts on a
   * refusal no retry can cure.
   */
  async #openTunnel(
    address: string,
    heldEdges: readonly string[],
    retried = false,
  ): Promise<EdgeTunnel> {
    const identity = this.#identity!;
    let tunnel: EdgeTunnel;
    try {
      tunnel = await EdgeTunnel.open(identity, {
        ...this.#tunnelOptions(identity),
        address,
        heldEdges,
      });
    } catch (err) {
      // Another attempt recovered meanwhile: try what it stored, and never recover twice.
      const stale = this.#identity !== identity;
      if (stale && !retried && !this.#stop.signal.aborted)
        return this.#openTunnel(address, heldEdges, true);
      const next =
        this.#stop.signal.aborted || stale
          ? ({ action: 'report' } as const)
          : await this.#recovery.recover(identity, err as Error, address);
      if (next.action === 'retry' && !this.#stop.signal.aborted) {
        this.#adopt(next.identity);
        if (!retried) return this.#openTunnel(address, heldEdges, true);
      }
      this.emit('tunnelError', err as Error);
      if (next.action === 'halt') this.#halt(next.error);
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
