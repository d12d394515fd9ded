import type { Logger } from 'pino';
import type { Clock } from '../core/index.js';
import type { CertificateAuthority } from '../pki/index.js';
import type { ConnectorRegistry } from './connector-registry.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { EdgeIdentity } from './edge-identity.js';
import type { EdgeObservability } from './edge-observability.js';
import type { EdgeTunnels } from './edge-tunnels.js';
import type { Closer } from './edge-closer.js';
import type { AccessProxy } from './access-proxy.js';
import { startAccessProxy, type AccessListenOptions } from './access-frontend.js';
import { learnedFromAccess } from './access-discoveries.js';
import {
  startKonnectivityFrontend,
  tunnelBackend,
  type KonnectivityFrontend,
  type KonnectivityOptions,
} from './konnectivity/index.js';

/** The edge options the client frontends read (see EdgeOptions for each field). */
export interface FrontendOptions {
  readonly konnectivity?: KonnectivityOptions | undefined;
  readonly access?: AccessListenOptions | undefined;
}

/** What the frontends are built from. */
export interface FrontendParts {
  readonly ca: CertificateAuthority;
  readonly registry: ConnectorRegistry;
  readonly metrics: EdgeMetrics;
  readonly tunnels: EdgeTunnels;
  readonly identity: EdgeIdentity;
  readonly observability: EdgeObservability;
  readonly log: Logger;
  readonly clock: Clock;
  readonly closer: Closer;
}

/** Listeners clients reach connectors through, besides the virtual servers. */
export interface EdgeFrontends {
  readonly konnectivity: KonnectivityFrontend | undefined;
  readonly access: { readonly proxy: AccessProxy; readonly url: string } | undefined;
}

/** Starts the Konnectivity frontend and the access proxy that were asked for, in that order. */
export async function startFrontends(
  options: FrontendOptions,
  parts: FrontendParts,
): Promise<EdgeFrontends> {
  const konnectivity = options.konnectivity
    ? await startKonnectivity(options.konnectivity, parts)
    : undefined;
  const access = options.access ? await startAccess(options.access, parts) : undefined;
  return { konnectivity, access };
}

/** The Konnectivity-compatible HTTP CONNECT frontend, dialing through the tunnels. */
async function startKonnectivity(
  options: KonnectivityOptions,
  parts: FrontendParts,
): Promise<KonnectivityFrontend> {
  const { dialer } = parts.tunnels;
  const frontend = await startKonnectivityFrontend(options, {
    backend: tunnelBackend(parts.registry, (tunnel, request) => dialer.dialVia(tunnel, request)),
    registry: parts.metrics.registry,
    logger: parts.log,
    clock: parts.clock,
    issueCertificate: (names) => parts.ca.issueServerCertificate(names),
  });
  parts.closer.add('konnectivity frontend', () => frontend.close(0));
  return frontend;
}

/**
 * The access proxy for `postern tcp` and HTTPS-proxy clients; it also serves the CLI login
 * pages and teaches the discovered-application registry what users reach.
 */
async function startAccess(
  options: AccessListenOptions,
  parts: FrontendParts,
): Promise<{ proxy: AccessProxy; url: string }> {
  const { runtime, dialer, discovered } = parts.tunnels;
  const access = await startAccessProxy(options, {
    ca: parts.ca,
    tokens: parts.identity.tokenAuthority,
    activity: parts.observability.activity,
    dialer,
    config: () => runtime.config,
    logger: parts.log,
    clock: parts.clock,
    revocations: parts.identity.browserAccess.pages.sessions,
    metrics: parts.metrics,
  });
  parts.closer.add('access proxy', () => access.proxy.close());
  // Non-CONNECT requests to the access listener are the CLI login pages.
  access.proxy.onHttpRequest ??= (req, res) => parts.identity.browserAccess.pages.handle(req, res);
  access.proxy.onAccess = (event) => {
    const group = event.connectorId && parts.registry.get(event.connectorId)?.group;
    const learned = learnedFromAccess(event, group || undefined);
    if (learned) discovered.recordAccess(learned);
  };
  return access;
}
