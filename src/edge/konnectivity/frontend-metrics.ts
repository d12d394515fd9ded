import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How a CONNECT request ended, as counted in `postern_edge_konnectivity_requests_total`. */
export type RequestOutcome =
  | 'established'
  | 'bad_request'
  | 'method_not_allowed'
  | 'head_timeout'
  | 'no_connector'
  | 'overloaded'
  | 'dial_failed'
  | 'dial_not_allowed'
  | 'dial_timeout'
  | 'client_closed';

/** Which listener a request came in on. */
export type ListenerKind = 'uds' | 'tcp';

/** The Konnectivity frontend's metrics, registered in the edge's registry. */
export class FrontendMetrics {
  readonly requests: Counter<'listener' | 'outcome'>;
  readonly openTunnels: Gauge<'listener'>;
  readonly pendingDials: Gauge;
  readonly dialSeconds: Histogram<'strategy'>;
  readonly tlsRejections: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'postern_edge_konnectivity_requests_total',
      help: 'CONNECT requests on the Konnectivity frontend, by listener (uds, tcp) and outcome.',
      labelNames: ['listener', 'outcome'] as const,
      registers,
    });
    this.openTunnels = new Gauge({
      name: 'postern_edge_konnectivity_open_tunnels',
      help: 'Established CONNECT tunnels open on the Konnectivity frontend, by listener.',
      labelNames: ['listener'] as const,
      registers,
    });
    this.pendingDials = new Gauge({
      name: 'postern_edge_konnectivity_pending_dials',
      help: 'CONNECT requests waiting for a connector to dial their destination.',
      registers,
    });
    this.dialSeconds = new Histogram({
      name: 'postern_edge_konnectivity_dial_duration_seconds',
      help: 'Time from a complete CONNECT head to the connector dial result, by strategy that chose the connector.',
      labelNames: ['strategy'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15],
      registers,
    });
    this.tlsRejections = new Counter({
      name: 'postern_edge_konnectivity_tls_rejections_total',
      help: 'TLS connections to the Konnectivity TCP listener refused (no or untrusted client certificate, bad handshake).',
      registers,
    });
    for (const listener of ['uds', 'tcp'] as const) this.openTunnels.set({ listener }, 0);
  }
}
