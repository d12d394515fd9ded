import type { ImportStatus } from './importer/index.js';

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
  /** Closes a connector's tunnels at once (after it was revoked). */
  disconnect(connectorId: string): void;
  /** Rebuilds pools and virtual servers from the store; rejects when the result cannot run. */
  reload(): Promise<void>;
  /** Prometheus exposition. */
  metrics(): Promise<{ contentType: string; body: string }>;
  ready(): boolean;
  /** Owner of an object in the running configuration (`api`, `document:<file>`), if any. */
  ownerOf(kind: string, name: string): string | undefined;
  /** Objects of a kind that come from configuration documents. */
  documentObjects(kind: string): { spec: object; owner: string }[];
  /** Live status of a pool (node health, panic). */
  poolStatus(name: string): object | undefined;
  /** The configuration importer's status; undefined without --config-dir. */
  importStatus(): ImportStatus | undefined;
}
