import { X509Certificate } from 'node:crypto';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the connector's read-at-scrape gauges look at. */
export interface ConnectorMetricsSource {
  /** Server ids of the edges a tunnel is held to. */
  readonly heldEdges: () => Iterable<string>;
  /** Server ids of every edge of the HA set, as the edges last said. */
  readonly knownEdges: () => Iterable<string>;
  /** Data streams joined to a destination right now. */
  readonly openStreams: () => number;
  /** The connector's id and certificate (PEM), once the identity is loaded. */
  readonly identity: () => { readonly connectorId: string; readonly certPem: string } | undefined;
  /** Current time in epoch ms (the connector's clock). */
  readonly now: () => number;
}

/**
 * The connector's Prometheus metrics, one registry per connector so several can share a process
 * (tests). Counters are incremented by the code that sees the event; gauges are read at scrape
 * time from a {@link ConnectorMetricsSource} once {@link ConnectorMetrics.attach} was called.
 */
export class ConnectorMetrics {
  readonly registry = new Registry();
  readonly tunnelEvents = new Counter({
    name: 'postern_connector_tunnel_events_total',
    help: 'Tunnel changes, by event (connected, disconnected, failed: an attempt that never came up).',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly sessions = new Counter({
    name: 'postern_connector_sessions_total',
    help: 'Sessions opened: data streams whose destination answered and were joined to it.',
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'postern_connector_session_bytes_total',
    help: 'Bytes carried for ended sessions, by direction (to_target, to_edge).',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly dialFailures = new Counter({
    name: 'postern_connector_dial_failures_total',
    help: 'Dials the connector refused or could not complete, by reason (the dial_result code).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly controlMessages = new Counter({
    name: 'postern_connector_control_messages_total',
    help: 'Control-stream messages, by direction (sent, received) and message type.',
    labelNames: ['direction', 'type'] as const,
    registers: [this.registry],
  });
  readonly applicationHealth = new Counter({
    name: 'postern_connector_application_health_reports_total',
    help: 'Application health reports sent to the edge, by the application state reported.',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly remoteChecks = new Counter({
    name: 'postern_connector_remote_monitor_checks_total',
    help: 'Pool node health checks run for the edge (via pools), by result (ok, failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly kubernetesSnapshots = new Counter({
    name: 'postern_connector_kubernetes_snapshots_total',
    help: 'Kubernetes discovery snapshots taken, by result (ok, error: some watch was failing).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly kubernetesServices = new Gauge({
    name: 'postern_connector_kubernetes_services',
    help: 'Exposed Kubernetes Services in the last discovery snapshot.',
    registers: [this.registry],
  });
  readonly kubernetesFailing = new Gauge({
    name: 'postern_connector_kubernetes_discovery_failing',
    help: '1 while a Kubernetes watch of discovery fails, else 0 (also 0 with discovery off).',
    registers: [this.registry],
  });
  #attached = false;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics)
      collectDefaultMetrics({ register: this.registry, prefix: 'postern_connector_' });
  }

  /** Registers the gauges read at scrape time; only the first call has an effect. */
  attach(source: ConnectorMetricsSource): void {
    if (this.#attached) return;
    this.#attached = true;
    const registers = [this.registry];
    new Gauge({
      name: 'postern_connector_tunnel_up',
      help: 'Per edge of the HA set (by server id): 1 while a tunnel to it is held, else 0.',
      labelNames: ['server_id'] as const,
      registers,
      collect() {
        this.reset();
        const held = new Set(source.heldEdges());
        for (const id of source.knownEdges()) if (!held.has(id)) this.set({ server_id: id }, 0);
        for (const id of held) this.set({ server_id: id }, 1);
      },
    });
    new Gauge({
      name: 'postern_connector_open_streams',
      help: 'Sessions (data streams joined to a destination) open through this connector.',
      registers,
      collect() {
        this.set(source.openStreams());
      },
    });
    const expiry = certificateExpiry(source);
    new Gauge({
      name: 'postern_connector_certificate_expiry_seconds',
      help: 'Seconds until the connector certificate expires (negative once expired), by connector id.',
      labelNames: ['connector_id'] as const,
      registers,
      collect() {
        this.reset();
        const identity = source.identity();
        if (identity) this.set({ connector_id: identity.connectorId }, expiry(identity.certPem));
      },
    });
  }

  /** Counts one control message; `type` comes from the message itself. */
  controlMessage(direction: 'sent' | 'received', type: string): void {
    this.controlMessages.inc({ direction, type });
  }

  /** Records a Kubernetes discovery snapshot: its Services and whether a watch was failing. */
  kubernetesSnapshot(
    parts: readonly { services: readonly unknown[]; error?: string | undefined }[],
  ): void {
    const failing = parts.some((p) => p.error !== undefined);
    this.kubernetesSnapshots.inc({ result: failing ? 'error' : 'ok' });
    this.kubernetesServices.set(parts.reduce((n, p) => n + p.services.length, 0));
    this.kubernetesFailing.set(failing ? 1 : 0);
  }
}

/** Seconds to expiry of a certificate; the parse is cached for the last PEM. */
function certificateExpiry(source: ConnectorMetricsSource): (pem: string) => number {
  let cached: { pem: string; notAfter: number } | undefined;
  return (pem) => {
    if (cached?.pem !== pem)
      cached = { pem, notAfter: new Date(new X509Certificate(pem).validTo).getTime() };
    return Math.round((cached.notAfter - source.now()) / 1000);
  };
}
