import type { Logger } from 'pino';
import type { Backoff, Clock } from '../core/index.js';
import type { Identifiers } from '../protocol/index.js';
import { splitHostPort } from '../traffic/index.js';
import type { ConnectorMetrics } from './connector-metrics.js';
import type { EdgeTunnel } from './edge-tunnel.js';
import { connectorErrors } from './errors.js';
import type { ConnectorIdentityFiles } from './identity-store.js';
import type { KubernetesDiscoveryOptions } from './kubernetes/index.js';

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

/** The events a Connector emits, with their arguments. */
export interface ConnectorEvents {
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

/** `--edge` must be host:port: a malformed address is a mistake no retry cures. */
export function checkEdgeAddresses(options: ConnectorOptions): void {
  const given = [
    ...(options.edgeAddresses ?? []),
    ...(options.edgeAddress === undefined ? [] : [options.edgeAddress]),
  ];
  for (const address of given)
    if (!splitHostPort(address)) throw connectorErrors.badEdgeAddress(address);
}

/** The edges to keep tunnels to: the explicit list, else the one override or the key's address. */
export function edgeAddressesOf(
  options: ConnectorOptions,
  identity: ConnectorIdentityFiles,
): readonly string[] {
  return options.edgeAddresses !== undefined && options.edgeAddresses.length > 0
    ? options.edgeAddresses
    : [options.edgeAddress ?? identity.edgeAddress];
}
