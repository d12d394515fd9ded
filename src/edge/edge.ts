import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import {
  AuditLog,
  ConnectorAutoDelete,
  ConfigImporter,
  listenProblem,
  type LogStreamingService,
  syncDocumentGroups,
} from '../control/index.js';
import { formatProblems, type Configuration } from '../config/index.js';
import type { AuditRecord } from '../store/index.js';
import { systemClock, type Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { CertificateAuthority } from '../pki/index.js';
import type { AccessProxy } from './access-proxy.js';
import type { AccessListenOptions } from './access-frontend.js';
import type {
  AccessDecisionEntry,
  ActivityHistory,
  ActivityLog,
  AdminRoleMapping,
  BrowserAccess,
  UserTokenAuthority,
} from '../control/index.js';
import type { KonnectivityFrontend, KonnectivityOptions } from './konnectivity/index.js';
import type { EdgeMembership } from './edge-membership.js';
import type { EdgeRuntime } from './edge-runtime.js';
import { ConnectorRegistry } from './connector-registry.js';
import { EdgeMetrics } from './edge-metrics.js';
import { ConnectorDrains } from './connector-drain.js';
import { TunnelRecords } from './tunnel-records.js';
import {
  ensureDataDir,
  loadOrCreateAdminToken,
  loadOrCreateCa,
  writeAdminUrl,
} from './edge-files.js';
import { parseListen } from './edge-addresses.js';
import { Closer } from './edge-closer.js';
import { edgeErrors } from './errors.js';
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

// The edge is composed of parts, each in its own file, started in this order:
//   observability (activity log, log streaming)  edge-observability.ts
//   identity (user tokens, browser access)        edge-identity.ts
//   tunnels (runtime, tunnel port, reports)       edge-tunnels.ts
//   HA set (lease, configuration watcher)         edge-ha.ts
//   frontends (Konnectivity, access proxy)        edge-frontends.ts
//   admin API (with the console)                  edge-admin.ts
//   connector drains and auto-delete
// A failed start closes what was opened in reverse order (edge-closer.ts); a running edge
// closes in drain order instead (closeInDrainOrder below).

/** Default bound on requests and sessions finishing when an edge closes. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** How an edge starts; every field has a default suitable for a single-host install. */
export interface EdgeOptions {
  /** Default ./postern-data. */
  readonly dataDir: string;
  /** Opens the store; the CLI passes the embedded store for the data dir. */
  readonly openStore: () => Promise<Store>;
  /** Default 0.0.0.0:8443. */
  readonly tunnelListen?: string;
  /** Address provisioning keys carry; default the tunnel address, or the host name when it listens on all addresses. */
  readonly advertiseAddress?: string | undefined;
  /** Default 127.0.0.1:9090. */
  readonly adminListen?: string;
  readonly configDir?: string | undefined;
  /** Release shown by the admin API's OpenAPI document. */
  readonly version?: string | undefined;
  /** The built web console served at /console/; default the installed package's dist/console. */
  readonly consoleDir?: string | undefined;
  readonly adminToken?: string | undefined;
  /** Called with each admin API audit record once stored (e.g. to stream it). */
  readonly onAudit?: ((record: AuditRecord) => void) | undefined;
  /** Refuse admin API PUT, PATCH and DELETE without If-Match (428). Default false. */
  readonly adminRequireIfMatch?: boolean | undefined;
  /** Time between connector auto-delete sweeps; default one hour. */
  readonly autoDeleteIntervalMs?: number | undefined;
  /** This edge's id in the HA set; default a random one (see randomServerId). */
  readonly serverId?: string;
  /** HA lease lifetime: a crashed edge leaves the set after this long; default 15 s. */
  readonly leaseTtlMs?: number | undefined;
  /** Fallback check for configuration changed through other edges; default 5 s. */
  readonly configPollMs?: number | undefined;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly certificateValidityMs?: number;
  /**
   * How long after its certificate expired an offline connector may renew it with proof of its
   * key instead of enrolling again; default 30 days.
   */
  readonly expiredRenewalGraceMs?: number;
  readonly keepAliveIntervalMs?: number;
  readonly keepAliveTimeoutMs?: number;
  /** Bound on a tunnel's TLS handshake, control stream and hello; default 10 s. */
  readonly tunnelHandshakeTimeoutMs?: number;
  /** Konnectivity-compatible HTTP CONNECT frontend (UDS and/or mTLS TCP); default off. */
  readonly konnectivity?: KonnectivityOptions | undefined;
  /** Period of connector_metrics log records; default 300000 (5 min); 0 = none. */
  readonly logMetricsIntervalMs?: number | undefined;
  /** The access proxy for `postern tcp` and HTTPS-proxy clients (CONNECT over TLS); default off. */
  readonly access?: AccessListenOptions | undefined;
  /** `iss` of the user tokens this edge signs and accepts; default DEFAULT_TOKEN_ISSUER. */
  readonly tokenIssuer?: string | undefined;
  /** `--token-signing-key`: the user-token signing key file (HA: the same on every edge); default `<data-dir>/token-signing-key.pem`. */
  readonly tokenSigningKey?: string | undefined;
  /** `--cli-identity-provider`: the provider `postern login` uses; default the only one configured. */
  readonly cliIdentityProvider?: string | undefined;
  /** How long a `postern login --device` waits for the user's approval; default 600000 (10 min). */
  readonly deviceLoginTtlMs?: number | undefined;
  /**
   * `--admin-identity-provider` and `--admin-role-groups`: administrators sign in to the console
   * with this identity provider and get the mapped role; default admin tokens only.
   */
  readonly adminSignIn?:
    | {
        readonly identityProvider: string;
        readonly roles: AdminRoleMapping;
        /** Lifetime of the admin-API token; default 1 h. */
        readonly tokenTtlMs?: number | undefined;
      }
    | undefined;
  /** Every browser access decision (for the user activity log). */
  readonly onAccessDecision?: ((entry: AccessDecisionEntry) => void) | undefined;
  /** Records kept in memory by the user activity log; default 10,000. */
  readonly activityCapacity?: number | undefined;
  /** Newest user activity records the shared store keeps (all edges); default 100,000. */
  readonly activityRetentionEntries?: number | undefined;
  /** Days the shared store keeps user activity records; default 30. */
  readonly activityRetentionDays?: number | undefined;
  /**
   * On close, how long the edge keeps serving after GET /readyz turns 503, so that load balancers
   * and Kubernetes endpoints stop sending new clients before it stops accepting; default 0.
   */
  readonly shutdownGraceMs?: number | undefined;
  /** Then how long requests and sessions in flight may take to finish; default 10 s. */
  readonly drainTimeoutMs?: number | undefined;
}

/** A running edge. */
export interface Edge {
  readonly tunnelAddress: AddressInfo;
  readonly adminUrl: string;
  readonly adminToken: string;
  readonly advertiseAddress: string;
  readonly store: Store;
  readonly registry: ConnectorRegistry;
  readonly runtime: EdgeRuntime;
  readonly metrics: EdgeMetrics;
  /** Watches `--config-dir`, when one was given. */
  readonly importer: ConfigImporter | undefined;
  /** The Konnectivity frontend, when `konnectivity` was given. */
  readonly konnectivity: KonnectivityFrontend | undefined;
  /** This edge's id in the HA set. */
  readonly serverId: string;
  /** This edge's lease and its view of the live HA set. */
  readonly membership: EdgeMembership;
  /** Log streaming: sources call `logs.publish(type, fields)`; receivers follow the configuration. */
  readonly logs: LogStreamingService;
  /** Signs and verifies user tokens with `<data-dir>/token-signing-key.pem`. */
  readonly tokenAuthority: UserTokenAuthority;
  /** Browser access: login pages (`browserAccess.pages.handle`), sessions and access gates. */
  readonly browserAccess: BrowserAccess;
  /** Every access decision and session end (also at GET /api/v1/activity). */
  readonly activity: ActivityLog;
  /** The access proxy and its URL, when `access` was given. */
  readonly accessProxy: AccessProxy | undefined;
  readonly accessUrl: string | undefined;
  /** Deletes connectors of groups with auto_delete_after_days once disconnected that long. */
  readonly autoDelete: ConnectorAutoDelete;
  close(): Promise<void>;
}

/** Starts an edge: store, CA, tunnel port, virtual servers and the admin API. */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const log = options.logger ?? pino({ level: 'silent' });
  const clock = options.clock ?? systemClock;
  const registry = new ConnectorRegistry();
  const metrics = new EdgeMetrics(registry, { defaultMetrics: true });
  // Documents are imported before anything is opened: a broken one stops the start and
  // changes nothing. Later imports are applied once the runtime exists (see `applyDocuments`).
  let applyDocuments = (_config: Configuration): Promise<void> => Promise.resolve();
  const importer = options.configDir
    ? new ConfigImporter(options.configDir, {
        onConfiguration: (config) => applyDocuments(config),
        logger: log,
        clock,
        registry: metrics.registry,
      })
    : undefined;
  const first = await importer?.start();
  if (first && !first.ok) {
    await importer?.stop();
    throw first.error;
  }
  const closer = new Closer(log);
  if (importer) closer.add('configuration importer', () => importer.stop());
  return closer.guard(async () => {
    await ensureDataDir(options.dataDir);
    const ca = await loadOrCreateCa(options.dataDir);
    const adminToken = await loadOrCreateAdminToken(options.dataDir, options.adminToken);
    const store = await options.openStore();
    closer.add('store', () => store.close());
    const documents = importer?.configuration;
    if (documents) await syncDocumentGroups(store, documents);
    const base = { store, ca, adminToken, log, clock, registry, metrics, importer, closer };
    const running = await startParts(options, { ...base, documents }).catch((err: unknown) => {
      throw locatedStartError(err, documents);
    });
    const { runtime, listener } = running.tunnels;
    applyDocuments = async (config) => {
      await syncDocumentGroups(store, config);
      await runtime.reload({ documents: config });
      listener.pushConfig();
    };
    return edgeOf(running, {
      graceMs: options.shutdownGraceMs ?? 0,
      drainMs: options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS,
    });
  });
}

/**
 * A start that failed because a virtual server of the documents could not bind names the file,
 * line and path of its `listen`, as a failed reload does; any other error is left as it is.
 */
function locatedStartError(err: unknown, documents: Configuration | undefined): unknown {
  const problem =
    documents && listenProblem(err, { config: documents, generation: 1, starting: true });
  return problem === undefined
    ? err
    : edgeErrors.documentListenFailed(formatProblems([problem]).trim(), err);
}

/** What every part is started from. */
interface BaseParts {
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
interface Running {
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
async function startParts(options: EdgeOptions, base: BaseParts): Promise<Running> {
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

/**
 * Shuts a running edge down in drain order, which is not the reverse of the start: connectors
 * are sent to the other edges before sessions drain, and logs flush after the tunnels closed.
 */
async function closeInDrainOrder(
  running: Running,
  o: { readonly graceMs: number; readonly drainMs: number },
): Promise<void> {
  const { base, tunnels, frontends } = running;
  running.api.setReady(false);
  if (o.graceMs > 0) {
    base.log.info({ graceMs: o.graceMs }, 'not ready; still serving during the shutdown grace');
    await new Promise<void>((resolve) => base.clock.setTimeout(resolve, o.graceMs));
  }
  await running.autoDelete.stop();
  await running.drains.stop();
  await base.importer?.stop();
  // Leave the HA set and send go-away first, so connectors move before sessions drain.
  await running.tunnelRecords.stop();
  await running.ha.leave();
  void tunnels.listener.goAway();
  // The frontends drain side by side, each bounded by the drain timeout.
  await Promise.all([
    frontends.konnectivity?.close(o.drainMs),
    frontends.access?.proxy.close(),
    tunnels.runtime.close(o.drainMs),
  ]);
  running.identity.close();
  await tunnels.listener.close(2000);
  // Session ends recorded while the frontends closed are written before the store closes.
  await running.activityHistory.close();
  // After the tunnels closed, so their tunnel_down records are delivered too.
  await running.observability.close(2000);
  await running.api.close();
  await base.store.close();
}

/** The public view of a running edge. */
function edgeOf(running: Running, shutdown: { graceMs: number; drainMs: number }): Edge {
  const { base, observability, identity, tunnels, frontends } = running;
  return {
    tunnelAddress: tunnels.tunnelAddress,
    adminUrl: running.api.url,
    adminToken: base.adminToken,
    advertiseAddress: tunnels.advertiseAddress,
    store: base.store,
    registry: base.registry,
    runtime: tunnels.runtime,
    metrics: base.metrics,
    importer: base.importer,
    konnectivity: frontends.konnectivity,
    serverId: tunnels.serverId,
    membership: running.ha.membership,
    logs: observability.logs,
    tokenAuthority: identity.tokenAuthority,
    browserAccess: identity.browserAccess,
    activity: observability.activity,
    accessProxy: frontends.access?.proxy,
    accessUrl: frontends.access?.url,
    autoDelete: running.autoDelete,
    close: () => closeInDrainOrder(running, shutdown),
  };
}
