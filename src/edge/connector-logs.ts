import type { Clock, TimerHandle } from '../core/index.js';
import { isPosternError } from '../core/index.js';
import type { EnrollmentAuthority, LogPublisher } from '../control/index.js';
import type { ConnectorRegistry, ConnectorTunnel } from './connector-registry.js';

/** Options of {@link startConnectorLogs}. */
export interface ConnectorLogsOptions {
  readonly clock: Clock;
  /** Period of connector_metrics records; default 300000 (5 min, ZPA's cadence); 0 = none. */
  readonly metricsIntervalMs?: number | undefined;
}

/**
 * Publishes connector_status records when tunnels come up, go down or drain, and a
 * connector_metrics record per connected connector every interval. Returns a stop function.
 */
export function startConnectorLogs(
  registry: ConnectorRegistry,
  logs: LogPublisher,
  options: ConnectorLogsOptions,
): () => void {
  const { clock } = options;
  const status = (action: string) => (tunnel: ConnectorTunnel) =>
    logs.publish('connector_status', {
      ...identity(tunnel),
      action,
      outcome: 'ok',
      remote_address: tunnel.remoteAddress,
      hostname: tunnel.hello.hostname,
      version: tunnel.hello.version,
    });
  const onAdded = status('tunnel_up');
  const onRemoved = status('tunnel_down');
  const onDraining = status('drain');
  registry.on('added', onAdded);
  registry.on('removed', onRemoved);
  registry.on('draining', onDraining);
  const interval = options.metricsIntervalMs ?? 300_000;
  let timer: TimerHandle | undefined;
  const tick = (): void => {
    for (const tunnel of registry.list()) logs.publish('connector_metrics', metrics(tunnel, clock));
    timer = clock.setTimeout(tick, interval);
    timer.unref?.();
  };
  if (interval > 0) {
    timer = clock.setTimeout(tick, interval);
    timer.unref?.();
  }
  return () => {
    registry.off('added', onAdded);
    registry.off('removed', onRemoved);
    registry.off('draining', onDraining);
    if (timer) clock.clearTimeout(timer);
  };
}

/** An enrollment authority that also publishes a connector_status record per enrollment. */
export function withEnrollmentLogs(
  authority: EnrollmentAuthority,
  logs: LogPublisher,
): EnrollmentAuthority {
  return {
    edgeProof: (keyId, exporter) => authority.edgeProof(keyId, exporter),
    admit: (connector) => authority.admit(connector),
    renew: (id, csr) => authority.renew(id, csr),
    renewExpired: (request) => authority.renewExpired(request),
    recordSeen: (id, status) => authority.recordSeen(id, status),
    retireEphemeral: (id) => authority.retireEphemeral(id),
    async enroll(request) {
      const base = {
        action: 'enroll',
        remote_address: request.sourceIp,
        hostname: request.hostname,
        version: request.version,
      };
      try {
        const result = await authority.enroll(request);
        logs.publish('connector_status', {
          connector_id: result.connectorId,
          connector_group: result.group,
          ...base,
          outcome: 'ok',
        });
        return result;
      } catch (err) {
        logs.publish('connector_status', {
          ...base,
          outcome: isPosternError(err) ? err.code : 'POSTERN_ERR_INTERNAL',
          reason: (err as Error).message,
        });
        throw err;
      }
    },
  };
}

/** Publishes the connector_status record of an administrator revoking (deleting) a connector. */
export function publishRevoke(
  logs: LogPublisher,
  registry: ConnectorRegistry,
  connectorId: string,
): void {
  const tunnel = registry.get(connectorId);
  logs.publish('connector_status', {
    connector_id: connectorId,
    connector_group: tunnel?.group,
    action: 'revoke',
    outcome: 'ok',
    remote_address: tunnel?.remoteAddress,
  });
}

function identity(tunnel: ConnectorTunnel) {
  return { connector_id: tunnel.connectorId, connector_group: tunnel.group };
}

function metrics(tunnel: ConnectorTunnel, clock: Clock) {
  return {
    ...identity(tunnel),
    active_sessions: tunnel.activeSessions,
    sessions_opened: tunnel.sessionsOpened,
    bytes_to_connector: tunnel.bytesToConnector,
    bytes_from_connector: tunnel.bytesFromConnector,
    connected_seconds: Math.max(0, Math.floor((clock.now() - tunnel.connectedAt) / 1000)),
    draining: tunnel.draining,
  };
}
