import type { Logger } from 'pino';
import type { ConnectorMetrics } from './connector-metrics.js';
import type { EdgeTunnel } from './edge-tunnel.js';
import { KubernetesDiscovery, type KubernetesDiscoveryOptions } from './kubernetes/index.js';

/** What reporting discovered Services needs from the connector. */
export interface KubernetesReportingOptions {
  readonly logger: Logger;
  readonly metrics: ConnectorMetrics;
  /** The tunnels in the set now. */
  readonly tunnels: () => Iterable<EdgeTunnel>;
  /** Registers `listener` for every tunnel that comes up later. */
  readonly onConnected: (listener: (tunnel: EdgeTunnel) => void) => void;
}

/**
 * Starts Kubernetes discovery and reports every snapshot to every edge's tunnel, and the
 * latest one to each tunnel that comes up; returns the discovery (stop it on shutdown).
 */
export function startKubernetesReporting(
  discoveryOptions: Omit<KubernetesDiscoveryOptions, 'logger'>,
  o: KubernetesReportingOptions,
): KubernetesDiscovery {
  const discovery = new KubernetesDiscovery({ ...discoveryOptions, logger: o.logger });
  const send = (tunnel: EdgeTunnel, messages = discovery.messages()): void => {
    for (const m of messages) if (!tunnel.reportKubernetesServices(m)) return;
  };
  // Each edge keeps what its own tunnels reported, so every edge of an HA set hears it all.
  discovery.on('snapshot', (messages) => {
    o.metrics.kubernetesSnapshot(messages);
    for (const tunnel of o.tunnels()) send(tunnel, messages);
  });
  o.onConnected((tunnel) => send(tunnel));
  discovery.start();
  return discovery;
}
