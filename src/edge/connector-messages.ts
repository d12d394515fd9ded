import type { Logger } from 'pino';
import { isPosternError } from '../core/index.js';
import { makeMessage, type Message } from '../protocol/index.js';
import type { EnrollmentAuthority } from '../control/index.js';
import type { ConnectorRegistry, ConnectorTunnel } from './connector-registry.js';
import type { RemoteReport, Reporter } from './remote-reports.js';

/** Where the reports connectors send over their control stream go. */
export interface ConnectorReportSinks {
  /** Receives connectors' health and discovery reports (must not throw). */
  readonly onReport?: ((reporter: Reporter, report: RemoteReport) => void) | undefined;
  /** Receives connectors' discovered Kubernetes Services (must not throw). */
  readonly onKubernetesServices?:
    ((reporter: Reporter, message: Message<'kubernetes_services'>) => void) | undefined;
  /** Receives connectors' application health reports (must not throw). */
  readonly onApplicationHealth?:
    ((reporter: Reporter, message: Message<'app_health'>) => void) | undefined;
}

/** What answering a connector's control messages needs from the tunnel listener. */
export interface ConnectorMessageContext extends ConnectorReportSinks {
  readonly authority: EnrollmentAuthority;
  readonly registry: ConnectorRegistry;
}

/**
 * Handles one control message a connector sent after its hello: drain, certificate renewal
 * (answered on the control stream) and reports. Returns true when the connector said it is
 * leaving for good (its drain), so an ephemeral one is removed once its tunnel closes.
 */
export function handleConnectorMessage(
  tunnel: ConnectorTunnel,
  message: Message,
  o: ConnectorMessageContext & { readonly log: Logger },
): boolean {
  const { log } = o;
  switch (message.type) {
    case 'drain':
      tunnel.draining = true;
      o.registry.emit('draining', tunnel);
      log.info({ active: tunnel.activeSessions }, 'connector draining');
      return true;
    case 'renew':
      renew(tunnel, message, o);
      return false;
    case 'health':
    case 'discovered':
      try {
        o.onReport?.(tunnel, message);
      } catch (err) {
        log.error({ err }, 'a connector report could not be applied');
      }
      return false;
    case 'kubernetes_services':
      o.onKubernetesServices?.(tunnel, message);
      return false;
    case 'app_health':
      o.onApplicationHealth?.(tunnel, message);
      return false;
    default:
      return false;
  }
}

/** Renews the connector's certificate; answers `renewed`, or `error` with the refusal's code. */
function renew(
  tunnel: ConnectorTunnel,
  message: Message<'renew'>,
  o: { readonly authority: EnrollmentAuthority; readonly log: Logger },
): void {
  o.authority.renew(tunnel.connectorId, message.csrPem).then(
    (certPem) =>
      tunnel.control.send(makeMessage({ type: 'renewed', requestId: message.requestId, certPem })),
    (err: unknown) => {
      const code = isPosternError(err) ? err.code : 'POSTERN_ERR_INTERNAL';
      o.log.warn({ reason: code }, 'certificate renewal refused');
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
}
