import type { PoolStatus } from '../traffic/index.js';
import type { ImportStatus } from './importer/index.js';
import type { DiscoveredApplications } from './discovered-applications-route.js';
import type { ApplicationHealthView } from './application-health-view.js';

/** What the admin API needs to know about, and ask of, the running edge. */
export interface RuntimeView {
  /** Address provisioning keys carry. */
  readonly advertiseAddress: string;
  /** Live tunnels of this edge. */
  connected(): {
    connectorId: string;
    draining: boolean;
    activeSessions: number;
    remoteAddress: string;
  }[];
  /** This edge's server id, shown as the edge a connector is connected to. */
  readonly serverId?: string;
  /**
   * Applies a drain already recorded in the store: the connector's tunnel to this edge takes no
   * new sessions (the connector is told so), and the other edges are told to follow; false
   * when it has no tunnel here.
   */
  drain?(connectorId: string): boolean;
  /** Lifts a drain already cleared in the store, here and (told) on the other edges. */
  undrain?(connectorId: string): boolean;
  /** Closes a connector's tunnels at once (after it was revoked). */
  disconnect(connectorId: string): void;
  /** Rebuilds pools and virtual servers from the store; rejects when the result cannot run. */
  reload(): Promise<void>;
  /** Prometheus exposition. */
  metrics(): Promise<{ contentType: string; body: string }>;
  ready(): boolean;
  /**
   * Usable connector tunnels on this edge for each connector group a `via` pool of the running
   * configuration names (for a load balancer in front of the virtual servers).
   */
  tunnelsByGroup?(): Record<string, number>;
  /** Owner of an object in the running configuration (`api`, `document:<file>`), if any. */
  ownerOf(kind: string, name: string): string | undefined;
  /** Objects of a kind that come from configuration documents. */
  documentObjects(kind: string): { spec: object; owner: string }[];
  /** Live status of a pool (node health, panic); the API shows its times as ISO 8601. */
  poolStatus(name: string): PoolStatus | undefined;
  /**
   * Whether a virtual server in force listens: not when disabled, nor when it is an API server
   * that could not bind its address (the edge runs without it); undefined when not in force.
   */
  virtualServerStatus?(name: string): VirtualServerStatus | undefined;
  /** The configuration importer's status; undefined without --config-dir. */
  importStatus(): ImportStatus | undefined;
  /** Applications connectors discovered (Kubernetes Services); absent: none. */
  discoveredApplications?(): DiscoveredApplications;
  /** Health of an application from its connectors' reports; undefined when it is not in force. */
  applicationHealth?(name: string): ApplicationHealthView | undefined;
}

/** A virtual server's live status; `error` and `since` say why and since when it cannot bind. */
export interface VirtualServerStatus {
  readonly listening: boolean;
  readonly disabled?: true;
  readonly error?: { readonly code: string; readonly message: string };
  readonly since?: number;
}
