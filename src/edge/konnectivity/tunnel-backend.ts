import type { Identifiers } from '../../protocol/index.js';
import type { DialRequest, DialResult } from '../../traffic/index.js';
import type { ConnectorRegistry, ConnectorTunnel } from '../connector-registry.js';
import type { FrontendBackend } from './connect-handler.js';

/** A connected connector offered to the frontend, with the tunnel to dial through. */
export interface TunnelCandidate {
  readonly connectorId: string;
  readonly group: string;
  readonly identifiers: Identifiers;
  readonly activeSessions: number;
  readonly draining: boolean;
  readonly tunnel: ConnectorTunnel;
}

/**
 * The frontend's view of the edge's connector tunnels: those that may take a session now
 * (the registry's own notion of usable), dialed through the edge's tunnel dialer so that
 * session counts and metrics stay in one place.
 */
export function tunnelBackend(
  registry: ConnectorRegistry,
  dialVia: (tunnel: ConnectorTunnel, request: DialRequest) => Promise<DialResult>,
): FrontendBackend<TunnelCandidate> {
  return {
    candidates() {
      const groups = new Set(registry.list().map((t) => t.group));
      return [...groups].flatMap((group) =>
        registry.usable(group).map((tunnel) => ({
          connectorId: tunnel.connectorId,
          group: tunnel.group,
          identifiers: tunnel.hello.identifiers,
          activeSessions: tunnel.activeSessions,
          draining: tunnel.draining,
          tunnel,
        })),
      );
    },
    dial: (candidate, request) => dialVia(candidate.tunnel, request),
  };
}
