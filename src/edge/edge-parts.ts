import type { Logger } from 'pino';
import {
  AuditLog,
  ConnectorAutoDelete,
  type ActivityHistory,
  type ConfigImporter,
} from '../control/index.js';
import type { Configuration } from '../config/index.js';
import type { Clock } from '../core/index.js';
import type { CertificateAuthority } from '../pki/index.js';
import type { AuditRecord, Store } from '../store/index.js';
import type { ConnectorRegistry } from './connector-registry.js';
import { ConnectorDrains } from './connector-drain.js';
import type { EdgeMetrics } from './edge-metrics.js';
import type { EdgeOptions } from './edge-options.js';
import { TunnelRecords } from './tunnel-records.js';
import { writeAdminUrl } from './edge-files.js';
import { parseListen } from './edge-addresses.js';
import type { Closer } from './edge-closer.js';
import {
  startActivityHistory,
  startEdgeObservability,
  type EdgeObservability,
} from './edge-observability.js';
import { startEdgeIdentity, type EdgeIdentity } from './edge-identity.js';
import { startTunnels, type EdgeTunnels } from './edge-tunnels.js';
import { joinHaSet, type HaSet } from './edge-ha.js';
import { startFrontends, type EdgeFrontends } from './edge-frontends.js';
import { startAdminApi, type EdgeAdminApi } from './edge-admin.js';

/** What every part is started from. */
export interface BaseParts {
  readonly store: Store;
  readonly ca: CertificateAuthority;
  readonly adminToken: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly registry: ConnectorRegistry;
  readonly metrics: EdgeMetrics;
  readonly importer: ConfigImporter | undefined;
  readonly closer: Closer;
  readonly documents: Configuration | undefined;
}

/** The started parts of an edge. */
export interface Running {
  readonly base: BaseParts;
  readonly observability: EdgeObservability;
  readonly identity: EdgeIdentity;
  readonly tunnels: EdgeTunnels;
  readonly ha: HaSet;
  /** This edge's connector tunnels as recorded in the shared store. */
  readonly tunnelRecords: TunnelRecords;
  readonly frontends: EdgeFrontends;
  readonly drains: ConnectorDrains;
  readonly api: EdgeAdminApi;
  readonly autoDelete: ConnectorAutoDelete;
  /** Writes the activity log to the shared store (GET /activity reads every edge's records). */
  readonly activityHistory: ActivityHistory;
}

/** Starts the parts in order over an open store; the edge is ready when this resolves. */
export async function startParts(options: EdgeOptions, base: BaseParts): Promise<Running> {
  const { store, log, clock, closer } = base;
  // Both parsed before anything opens, so a bad flag opens nothing.
  const tunnelListen = parseListen(options.tunnelListen ?? '0.0.0.0:8443', '--tunnel-listen');
  const adminListen = parseListen(options.adminListen ?? '127.0.0.1:9090', '--admin-listen');

  // Receivers are configured once the edge is up, so a failed start leaves no connection behind.
  const observability = startEdgeObservability(options, base);
  closer.add('log streaming', () => observability.close(0));
  const identity = await startEdgeIdentity(options, { ...base, activity: observability.activity });
  closer.add('browser access', () => identity.close());
  const core = { ...base, observability, identity };

  const tunnels = await startTunnels(options, { ...core, tunnelListen });
  const activityHistory = startActivityHistory(options, {
    ...base,
    activity: observability.activity,
    serverId: tunnels.serverId,
  });
  const ha = await joinHaSet(store, options, { ...tunnels, log, clock });
  closer.add('HA set', () => ha.leave());
  tunnels.followEdges(() => ha.membership.view);
  const tunnelRecords = await startTunnelRecords(base, tunnels.serverId);
  const frontends = await startFrontends(options, { ...core, tunnels });
  registerHealthMetrics(base.metrics, tunnels);

  const drains = createDrains(base, tunnels.serverId);
  const api = await startAdminApi(adminListen, options, { ...core, tunnels, ha, drains });
  const autoDelete = startAutoDelete(options, base, observability.onAudit);
  await drains.start();
  await writeAdminUrl(options.dataDir, api.url);
  observability.goLive(tunnels.runtime.config.log_receivers ?? []);
  api.setReady(true);
  const running = {
    base,
    observability,
    identity,
    tunnels,
    ha,
    tunnelRecords,
    frontends,
    drains,
    api,
    autoDelete,
    activityHistory,
  };
  logStarted(running);
  return running;
}

/** Connector drains shared through the store, stopped by the closer on a failed start. */
function createDrains(base: BaseParts, serverId: string): ConnectorDrains {
  const drains = new ConnectorDrains(base.store, base.registry, {
    serverId,
    clock: base.clock,
    logger: base.log.child({ component: 'drains' }),
  });
  base.closer.add('connector drains', () => drains.stop());
  return drains;
}

/**
 * Gauges read at scrape time from the running configuration: application and pool health, and
 * which virtual servers listen.
 */
function registerHealthMetrics(metrics: EdgeMetrics, tunnels: EdgeTunnels): void {
  const { runtime, appHealth } = tunnels;
  appHealth.registerMetric(metrics.registry, () => runtime.config);
  metrics.registerPoolHealth(() =>
    runtime.config.pools.flatMap((p) => runtime.poolStatus(p.name) ?? []),
  );
  metrics.registerVirtualServers(() =>
    runtime.config.virtual_servers
      .filter((vs) => vs.enabled)
      .map((vs) => ({
        name: vs.name,
        listening: runtime.virtualServerStatus(vs.name)?.listening === true,
      })),
  );
}

/** Records this edge's connector tunnels in the store, so every edge's admin API lists them. */
async function startTunnelRecords(base: BaseParts, serverId: string): Promise<TunnelRecords> {
  const records = new TunnelRecords(base.store, base.registry, {
    serverId,
    clock: base.clock,
    logger: base.log.child({ component: 'tunnel-records' }),
  });
  base.closer.add('connector tunnel records', () => records.stop());
  await records.start();
  return records;
}

/** Deletes connectors of groups with auto_delete_after_days once disconnected that long. */
function startAutoDelete(
  options: EdgeOptions,
  base: BaseParts,
  onAudit: (record: AuditRecord) => void,
): ConnectorAutoDelete {
  const { store, clock, log, registry, closer } = base;
  const autoDelete = new ConnectorAutoDelete({
    store,
    clock,
    logger: log,
    connected: () => registry.list().map((t) => t.connectorId),
    audit: new AuditLog({ store, logger: log, onAudit }),
    intervalMs: options.autoDeleteIntervalMs,
  });
  autoDelete.start();
  closer.add('connector auto-delete', () => autoDelete.stop());
  return autoDelete;
}

/** Logs where the edge listens, once it is ready. */
function logStarted({ base, tunnels, api, frontends }: Running): void {
  base.log.info(
    {
      tunnel: `${tunnels.tunnelAddress.address}:${tunnels.tunnelAddress.port}`,
      admin: `${api.address.address}:${api.address.port}`,
      advertise: tunnels.advertiseAddress,
      ...(frontends.access ? { access: frontends.access.url } : {}),
    },
    'edge started',
  );
}
