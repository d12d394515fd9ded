import { EventEmitter } from 'node:events';
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { Backoff, systemClock } from '../core/index.js';
import { AdminDrainWatch } from './admin-drain.js';
import { RenewalTimer, renewOverTunnel } from './certificate-renewal.js';
import { enrollPatiently, enrollWithKey, forgetEphemeralIdentity } from './connector-enrollment.js';
import { ConnectorMetrics } from './connector-metrics.js';
import {
  checkEdgeAddresses,
  edgeAddressesOf,
  type ConnectorEvents,
  type ConnectorOptions,
} from './connector-options.js';
import { isRevocation } from './connector-refusals.js';
import type { SessionCounters } from './data-stream-handler.js';
import { EdgeSupervisor } from './edge-supervisor.js';
import type { EdgeTunnel } from './edge-tunnel.js';
import { connectorErrors } from './errors.js';
import { IdentityRecovery } from './identity-recovery.js';
import { IdentityStore, type ConnectorIdentityFiles } from './identity-store.js';
import { startKubernetesReporting } from './kubernetes-reporting.js';
import type { KubernetesDiscovery } from './kubernetes/index.js';
import { drainAndClose } from './graceful-stop.js';
import { TunnelOpener } from './tunnel-opener.js';

/** The backoff between tunnel attempts to one edge, and the default between enrollments. */
function newBackoff(): Backoff {
  return new Backoff({ initialMs: 1000, factor: 1.5, maxMs: 10_000 });
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
  #supervisor: EdgeSupervisor | undefined;
  #discovery: KubernetesDiscovery | undefined;
  readonly #recovery: IdentityRecovery;
  readonly #adminDrain: AdminDrainWatch;
  readonly #renewal: RenewalTimer;
  readonly #opener: TunnelOpener;

  constructor(options: ConnectorOptions) {
    super();
    this.#options = options;
    this.#store = new IdentityStore(options.stateDir);
    this.#log = options.logger;
    this.#backoff = options.backoff ?? newBackoff();
    this.metrics = options.metrics ?? new ConnectorMetrics();
    this.#recovery = new IdentityRecovery({
      store: this.#store,
      logger: this.#log,
      enroll: options.provisionKey ? () => enrollWithKey(options, this.#store) : undefined,
    });
    this.#adminDrain = new AdminDrainWatch({
      logger: this.#log,
      tunnels: () => this.tunnels.values(),
      connectorId: () => this.#identity?.connectorId ?? '',
      onChange: (drained) => this.emit('drained', drained),
    });
    this.#renewal = new RenewalTimer({
      logger: this.#log,
      certPem: () => this.#identity!.certPem,
      renew: () => this.renewCertificate(),
    });
    this.#opener = this.#newOpener();
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
    checkEdgeAddresses(this.#options);
    this.#identity =
      (await this.#store.load()) ??
      (await enrollPatiently(() => enrollWithKey(this.#options, this.#store), {
        backoff: this.#backoff,
        logger: this.#log,
        signal: this.#stop.signal,
      }));
    this.#backoff.reset();
    this.#log.info(
      { connector: this.#identity.connectorId, group: this.#identity.group },
      'connector identity ready',
    );
    const discovery = this.#options.kubernetesDiscovery;
    if (discovery) {
      this.#discovery = startKubernetesReporting(discovery, {
        logger: this.#log,
        metrics: this.metrics,
        tunnels: () => this.tunnels.values(),
        onConnected: (listener) => this.on('connected', listener),
      });
    }
    this.#startSupervisor();
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
    this.#renewal.cancel();
    await this.#discovery?.stop();
    const stopped = this.#supervisor?.stop();
    const tunnels = this.#supervisor?.openTunnels ?? [];
    const told = await drainAndClose(tunnels, this.counters, options);
    await stopped;
    const identity = this.#identity;
    if (told && identity?.ephemeral) {
      await forgetEphemeralIdentity(this.#store, identity, {
        logger: this.#log,
        stateDir: this.#options.stateDir,
      });
    }
  }

  /** Renews the certificate now over the current tunnel, with a new key pair. */
  async renewCertificate(): Promise<void> {
    const tunnel = this.#tunnel;
    if (!tunnel) throw connectorErrors.enrollmentProtocol('edge', 'not connected');
    const { keyPem, certPem } = await renewOverTunnel(tunnel, this.#store);
    this.#identity = { ...this.#identity!, keyPem, certPem };
    this.#log.info({ notAfter: new X509Certificate(certPem).validTo }, 'certificate renewed');
    this.#renewal.schedule();
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
    this.#renewal.cancel();
    void this.#supervisor?.stop();
    if (revoked) this.emit('revoked', err);
    this.emit('halted', err);
  }

  /** Takes a renewed or new identity (already stored) that recovered a refused tunnel. */
  #adopt(identity: ConnectorIdentityFiles): void {
    if (this.#identity === identity) return;
    this.#identity = identity;
    // The new certificate renews on its own schedule, set when its first tunnel is up.
    this.#renewal.reset();
    this.#log.info(
      { connector: identity.connectorId, group: identity.group },
      'connector identity ready',
    );
  }

  #newOpener(): TunnelOpener {
    return new TunnelOpener({
      options: this.#options,
      logger: this.#log,
      counters: this.counters,
      metrics: this.metrics,
      recovery: this.#recovery,
      signal: this.#stop.signal,
      identity: () => this.#identity!,
      adopt: (identity) => this.#adopt(identity),
      onError: (err) => this.emit('tunnelError', err),
      halt: (err) => this.#halt(err),
    });
  }

  /** Keeps a tunnel to every edge (see EdgeSupervisor) until stop() or a revocation. */
  #startSupervisor(): void {
    const addresses = edgeAddressesOf(this.#options, this.#identity!);
    const supervisor = new EdgeSupervisor({
      addresses,
      open: (address, heldEdges) => this.#opener.open(address, heldEdges),
      // One address shares the connector's backoff; each address of a list gets its own.
      newBackoff: addresses.length === 1 ? () => this.#backoff : newBackoff,
      duplicateDelayMs: this.#options.syncIntervalMs,
      logger: this.#log,
    });
    supervisor.on('connected', (tunnel) => this.#onConnected(supervisor, tunnel));
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

  #onConnected(supervisor: EdgeSupervisor, tunnel: EdgeTunnel): void {
    this.#log.info(
      { edge: tunnel.welcome.serverId, tunnels: supervisor.tunnels.size },
      'tunnel up',
    );
    this.#tunnel ??= tunnel;
    this.metrics.tunnelEvents.inc({ event: 'connected' });
    tunnel.on('drained', () => this.#adminDrain.update());
    this.#adminDrain.update();
    this.emit('connected', tunnel);
    if (!this.#renewal.scheduled) this.#renewal.schedule();
  }
}
