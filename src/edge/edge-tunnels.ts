import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { EnrollmentService } from '../control/index.js';
import type { Configuration } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { CertificateAuthority } from '../pki/index.js';
import type { Store } from '../store/index.js';
import type { ConnectorRegistry } from './connector-registry.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { EdgeIdentity } from './edge-identity.js';
import type { EdgeObservability } from './edge-observability.js';
import type { Closer } from './edge-closer.js';
import { EdgeRuntime } from './edge-runtime.js';
import { TunnelDialer } from './tunnel-dialer.js';
import { TunnelListener, type TunnelListenerOptions } from './tunnel-listener.js';
import { randomServerId, type EdgeView } from './edge-membership.js';
import { DiscoveredApplicationRegistry } from './discovered-application-registry.js';
import { ApplicationHealthRegistry } from './application-health-registry.js';
import { logPoolEvent, sessionObserver } from './session-observer.js';
import { withEnrollmentLogs } from './connector-logs.js';
import { EnrollmentGuard } from './enrollment-guard.js';
import {
  advertiseHostFor,
  formatAddress,
  listenTunnelPort,
  serverNames,
  type ListenAt,
} from './edge-addresses.js';

/** The edge options the tunnel side reads (see EdgeOptions for each field). */
export interface TunnelOptions {
  readonly advertiseAddress?: string | undefined;
  readonly serverId?: string;
  readonly certificateValidityMs?: number;
  readonly expiredRenewalGraceMs?: number;
  readonly keepAliveIntervalMs?: number;
  readonly keepAliveTimeoutMs?: number;
  readonly tunnelHandshakeTimeoutMs?: number;
  /** How long sessions of a virtual server a reload removed or moved may finish; default 30 s. */
  readonly reloadDrainTimeoutMs?: number | undefined;
}

/** What the tunnel side is built from. */
export interface TunnelParts {
  /** The parsed `tunnelListen`. */
  readonly tunnelListen: ListenAt;
  readonly store: Store;
  readonly ca: CertificateAuthority;
  readonly registry: ConnectorRegistry;
  readonly metrics: EdgeMetrics;
  readonly identity: EdgeIdentity;
  readonly observability: EdgeObservability;
  readonly log: Logger;
  readonly clock: Clock;
  readonly closer: Closer;
  /** The `--config-dir` documents in force at start, if any. */
  readonly documents: Configuration | undefined;
}

/** The connector side of the edge: the tunnel port, the runtime and what connectors report. */
export interface EdgeTunnels {
  readonly runtime: EdgeRuntime;
  readonly listener: TunnelListener;
  readonly dialer: TunnelDialer;
  readonly discovered: DiscoveredApplicationRegistry;
  readonly appHealth: ApplicationHealthRegistry;
  readonly serverId: string;
  readonly tunnelAddress: AddressInfo;
  readonly advertiseAddress: string;
  /** Hands connectors the HA set from now on; until then they are told this edge is alone. */
  followEdges(view: () => EdgeView): void;
}

/**
 * Applies the configuration and opens the tunnel port; registers the runtime and the listener
 * with the closer first, so a failed reload or bind closes both.
 */
export async function startTunnels(
  options: TunnelOptions,
  parts: TunnelParts,
): Promise<EdgeTunnels> {
  const { registry, ca, tunnelListen } = parts;
  const dialer = new TunnelDialer(registry, { logger: parts.log, metrics: parts.metrics });
  const { discovered, appHealth } = reportRegistries(registry, parts.clock);
  // The runtime tells connectors about discovered nodes through the listener, made just after.
  let pushConfig = (_group?: string): void => undefined;
  const runtime = createRuntime(dialer, parts, {
    pushConfig: (group) => pushConfig(group),
    drainTimeoutMs: options.reloadDrainTimeoutMs,
  });

  const advertiseHost = advertiseHostFor(tunnelListen.host);
  const server = await ca.issueServerCertificate(
    serverNames(advertiseHost, options.advertiseAddress),
  );
  const serverId = options.serverId ?? randomServerId();
  let edgeView = (): EdgeView => ({ serverId, serverCount: 1, peers: [] });
  const listener = new TunnelListener({
    serverId,
    edgeView: () => edgeView(),
    certPem: server.certPem,
    keyPem: server.keyPem,
    caPem: ca.certPem,
    ...reportHandlers(options, parts, { runtime, discovered, appHealth }),
  });
  pushConfig = (group) => listener.pushConfig(group);
  // Added before the runtime so a failed start closes the runtime first, then the port.
  parts.closer.add('tunnel listener', () => listener.close(0));
  parts.closer.add('runtime', () => runtime.close(0));
  await runtime.reload(parts.documents ? { documents: parts.documents } : {});
  await listenTunnelPort(listener.server, tunnelListen);

  const tunnelAddress = listener.server.address() as AddressInfo;
  return {
    runtime,
    listener,
    dialer,
    discovered,
    appHealth,
    serverId,
    tunnelAddress,
    advertiseAddress: options.advertiseAddress ?? formatAddress(advertiseHost, tunnelAddress.port),
    followEdges: (view) => {
      edgeView = view;
    },
  };
}

/** What connectors report (Kubernetes Services, application health), forgotten as they leave. */
function reportRegistries(registry: ConnectorRegistry, clock: Clock) {
  const discovered = new DiscoveredApplicationRegistry({ clock });
  registry.on('added', (t) => discovered.connected(t.connectorId));
  registry.on('removed', (t) => discovered.disconnected(t.connectorId));
  const appHealth = new ApplicationHealthRegistry();
  registry.on('removed', (t) => appHealth.disconnected(t.connectorId));
  return { discovered, appHealth };
}

/** The runtime: virtual servers and pools, gated by browser access, observed for metrics. */
function createRuntime(
  dialer: TunnelDialer,
  parts: TunnelParts,
  o: { pushConfig: (group?: string) => void; drainTimeoutMs: number | undefined },
): EdgeRuntime {
  const { identity, observability, log } = parts;
  const { pushConfig } = o;
  const runtime: EdgeRuntime = new EdgeRuntime({
    drainTimeoutMs: o.drainTimeoutMs,
    // Derived from the token signing key, which every edge of an HA set loads: cookies agree.
    persistenceKey: identity.tokenAuthority.derivedKey('postern pool persistence cookie'),
    store: parts.store,
    dialer,
    logger: log,
    clock: parts.clock,
    hooks: sessionObserver(log, parts.metrics),
    gateFor: (vs, config) => identity.browserAccess.gateFor(vs, config),
    onApplied: (config) => {
      identity.browserAccess.configure(config);
      observability.configure(config.log_receivers ?? []);
    },
    onPoolEvent: (event) => {
      logPoolEvent(log, event);
      // Discovered nodes become destinations (and health checks) of the group's connectors.
      if (event.type === 'discovery') {
        const group = runtime.groupOf(event.pool);
        // A pool not in force yet (mid-reload) has no group to look up: tell everyone.
        if (group !== undefined || !runtime.config.pools.some((p) => p.name === event.pool)) {
          pushConfig(group);
        }
      }
    },
  });
  return runtime;
}

/** The listener's enrollment, configuration and report handling, minus its certificate. */
function reportHandlers(
  options: TunnelOptions,
  parts: TunnelParts,
  sinks: {
    runtime: EdgeRuntime;
    discovered: DiscoveredApplicationRegistry;
    appHealth: ApplicationHealthRegistry;
  },
): Omit<TunnelListenerOptions, 'serverId' | 'edgeView' | 'certPem' | 'keyPem' | 'caPem'> {
  const { runtime, discovered, appHealth } = sinks;
  const { log, clock } = parts;
  const enrollment = new EnrollmentService({
    store: parts.store,
    ca: parts.ca,
    clock,
    logger: log,
    certificateValidityMs: options.certificateValidityMs,
    expiredRenewalGraceMs: options.expiredRenewalGraceMs,
  });
  return {
    authority: withEnrollmentLogs(enrollment, parts.observability.logs),
    registry: parts.registry,
    metrics: parts.metrics,
    logger: log,
    configFor: (group) => runtime.configFor(group),
    onReport: (reporter, report) => runtime.applyReport(reporter, report),
    onKubernetesServices: (reporter, message) => discovered.apply(reporter, message),
    onApplicationHealth: (reporter, message) => {
      if (!appHealth.apply(reporter, message, runtime.config)) {
        log.debug(
          { connector: reporter.connectorId, application: message.application },
          'ignored application health for an application the connector group does not serve',
        );
      }
    },
    keepAliveIntervalMs: options.keepAliveIntervalMs,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    handshakeTimeoutMs: options.tunnelHandshakeTimeoutMs,
    enrollmentGuard: new EnrollmentGuard({ clock, logger: log }),
  };
}
