import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildAdminApi, type ConfigImporter, type RuntimeView } from '../control/index.js';
import type { Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { ConnectorRegistry } from './connector-registry.js';
import type { ConnectorDrains } from './connector-drain.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { EdgeIdentity } from './edge-identity.js';
import type { EdgeObservability } from './edge-observability.js';
import type { EdgeTunnels } from './edge-tunnels.js';
import type { HaSet } from './edge-ha.js';
import type { Closer } from './edge-closer.js';
import { publishRevoke } from './connector-logs.js';
import { edgeErrors } from './errors.js';
import { formatAddress, type ListenAt } from './edge-addresses.js';

/** The edge options the admin API reads (see EdgeOptions for each field). */
export interface AdminOptions {
  readonly version?: string | undefined;
  readonly consoleDir?: string | undefined;
  readonly adminRequireIfMatch?: boolean | undefined;
}

/** The running parts the admin API shows and acts on. */
export interface AdminParts {
  readonly store: Store;
  readonly adminToken: string;
  readonly registry: ConnectorRegistry;
  readonly metrics: EdgeMetrics;
  readonly importer: ConfigImporter | undefined;
  readonly tunnels: EdgeTunnels;
  readonly ha: HaSet;
  readonly drains: ConnectorDrains;
  readonly identity: EdgeIdentity;
  readonly observability: EdgeObservability;
  readonly log: Logger;
  readonly clock: Clock;
  readonly closer: Closer;
}

/** The listening admin API. */
export interface EdgeAdminApi {
  readonly url: string;
  readonly address: AddressInfo;
  /** What GET /readyz answers: true once the edge has fully started, false from close on. */
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

/** Builds the admin API (with the console) over the running edge and listens on `adminListen`. */
export async function startAdminApi(
  adminListen: ListenAt,
  options: AdminOptions,
  parts: AdminParts,
): Promise<EdgeAdminApi> {
  const { identity, observability } = parts;
  let ready = false;
  const api = buildAdminApi({
    store: parts.store,
    adminToken: parts.adminToken,
    logger: parts.log,
    version: options.version,
    consoleDir: options.consoleDir,
    activity: observability.activity,
    clock: parts.clock,
    onAudit: observability.onAudit,
    requireIfMatch: options.adminRequireIfMatch,
    jwks: () => identity.tokenAuthority.jwks(),
    adminSignIn: identity.adminSignIn,
    runtime: runtimeView(parts, () => ready),
  });
  try {
    await api.listen({ host: adminListen.host, port: adminListen.port });
  } catch (err) {
    throw edgeErrors.listenFailed('admin API', `${adminListen.host}:${adminListen.port}`, err);
  }
  parts.closer.add('admin API', () => api.close());
  const address = api.server.address() as AddressInfo;
  return {
    url: `http://${formatAddress(address.address, address.port)}`,
    address,
    setReady: (value) => {
      ready = value;
    },
    close: () => api.close(),
  };
}

/** What the admin API sees of, and asks of, this edge. */
function runtimeView(parts: AdminParts, ready: () => boolean): RuntimeView {
  const { registry, tunnels, ha, drains, metrics } = parts;
  const { runtime, listener, discovered, appHealth } = tunnels;
  return {
    advertiseAddress: tunnels.advertiseAddress,
    serverId: tunnels.serverId,
    // Recorded in the store by the API; applied here at once and announced to the other edges.
    drain: (id) => drains.changed(id, true),
    undrain: (id) => drains.changed(id, false),
    connected: () =>
      registry.list().map((t) => ({
        connectorId: t.connectorId,
        draining: t.draining,
        activeSessions: t.activeSessions,
        remoteAddress: t.remoteAddress,
      })),
    disconnect: (id) => {
      publishRevoke(parts.observability.logs, registry, id);
      listener.revoke(id);
      void ha.watcher.announceDisconnect(id);
    },
    reload: async () => {
      await runtime.reload();
      listener.pushConfig();
      void ha.watcher.announce();
    },
    ownerOf: (kind, name) => runtime.ownerOf(kind, name),
    documentObjects: (kind) => runtime.documentObjects(kind),
    poolStatus: (name) => runtime.poolStatus(name),
    virtualServerStatus: (name) => runtime.virtualServerStatus(name),
    importStatus: () => parts.importer?.status(),
    discoveredApplications: () => discovered.listAll(),
    applicationHealth: (name) => {
      const app = runtime.config.applications?.find((a) => a.name === name);
      return app && appHealth.view(app);
    },
    metrics: async () => ({
      contentType: metrics.registry.contentType,
      body: await metrics.registry.metrics(),
    }),
    ready,
    tunnelsByGroup: () => {
      const counts: Record<string, number> = {};
      for (const pool of runtime.config.pools ?? [])
        if (pool.via !== undefined) counts[pool.via] = registry.usable(pool.via).length;
      return counts;
    },
  };
}
