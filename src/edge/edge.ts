import { hostname } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import {
  ActivityLog,
  AuditLog,
  ConnectorAutoDelete,
  ConfigImporter,
  EnrollmentService,
  LogStreamingService,
  buildAdminApi,
  syncDocumentGroups,
} from '../control/index.js';
import type { Configuration } from '../config/index.js';
import type { AuditRecord } from '../store/index.js';
import { PosternError, systemClock, type Clock } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { CertificateAuthority } from '../pki/index.js';
import { splitHostPort } from '../traffic/index.js';
import { ConnectorRegistry } from './connector-registry.js';
import { edgeErrors } from './errors.js';
import { EdgeMetrics } from './edge-metrics.js';
import { EdgeRuntime } from './edge-runtime.js';
import {
  ensureDataDir,
  loadOrCreateAdminToken,
  loadOrCreateCa,
  loadTokenAuthority,
  writeAdminUrl,
} from './edge-files.js';
import { startAccessProxy, type AccessListenOptions } from './access-frontend.js';
import type { AccessProxy } from './access-proxy.js';
import {
  AdminSignIn,
  BrowserAccess,
  SqlSessionStore,
  type AccessDecisionEntry,
  type AdminRoleMapping,
  type UserTokenAuthority,
} from '../control/index.js';
import { TunnelDialer } from './tunnel-dialer.js';
import { ConnectorDrains } from './connector-drain.js';
import { TunnelListener } from './tunnel-listener.js';
import { EdgeMembership, randomServerId } from './edge-membership.js';
import { ConfigWatcher } from './config-watcher.js';
import { DiscoveredApplicationRegistry } from './discovered-application-registry.js';
import { ApplicationHealthRegistry } from './application-health-registry.js';
import { learnedFromAccess } from './access-discoveries.js';
import { logPoolEvent, sessionObserver } from './session-observer.js';
import { auditFields, browserDecisionActivity, streamActivity } from './activity-streaming.js';
import { publishRevoke, startConnectorLogs, withEnrollmentLogs } from './connector-logs.js';
import {
  startKonnectivityFrontend,
  tunnelBackend,
  type KonnectivityFrontend,
  type KonnectivityOptions,
} from './konnectivity/index.js';

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
  try {
    await ensureDataDir(options.dataDir);
    const ca = await loadOrCreateCa(options.dataDir);
    const adminToken = await loadOrCreateAdminToken(options.dataDir, options.adminToken);
    const store = await options.openStore();
    try {
      const documents = importer?.configuration;
      if (documents) await syncDocumentGroups(store, documents);
      const parts = { store, ca, adminToken, log, clock, registry, metrics, importer, documents };
      const edge = await startWithStore(options, parts);
      applyDocuments = async (config) => {
        await syncDocumentGroups(store, config);
        await edge.runtime.reload({ documents: config });
        edge.pushConfig();
      };
      return edge;
    } catch (err) {
      await store.close();
      throw err;
    }
  } catch (err) {
    await importer?.stop();
    throw err;
  }
}

interface StartParts {
  readonly store: Store;
  readonly ca: CertificateAuthority;
  readonly adminToken: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly registry: ConnectorRegistry;
  readonly metrics: EdgeMetrics;
  readonly importer: ConfigImporter | undefined;
  readonly documents: Configuration | undefined;
}

async function startWithStore(
  options: EdgeOptions,
  parts: StartParts,
): Promise<Edge & { pushConfig(): void }> {
  const { store, ca, adminToken, log, clock, registry, metrics, importer } = parts;

  const tunnelListen = parseListen(options.tunnelListen ?? '0.0.0.0:8443', '--tunnel-listen');
  const adminListen = parseListen(options.adminListen ?? '127.0.0.1:9090', '--admin-listen');
  const authority = new EnrollmentService({
    store,
    ca,
    clock,
    logger: log,
    certificateValidityMs: options.certificateValidityMs,
  });
  const dialer = new TunnelDialer(registry, { logger: log, metrics });
  // Receivers are configured once the edge is up, so a failed start leaves no connection behind.
  const logs = new LogStreamingService({
    spoolDir: join(options.dataDir, 'log-spool'),
    logger: log,
    clock,
    registry: metrics.registry,
  });
  let logsLive = false;
  const stopConnectorLogs = startConnectorLogs(registry, logs, {
    clock,
    metricsIntervalMs: options.logMetricsIntervalMs,
  });
  const tokenAuthority = await loadTokenAuthority(options.dataDir, {
    issuer: options.tokenIssuer,
    clock,
    keyFile: options.tokenSigningKey,
  });
  const activity = new ActivityLog({
    logger: log.child({ component: 'activity' }),
    registry: metrics.registry,
    clock,
    ...(options.activityCapacity === undefined ? {} : { capacity: options.activityCapacity }),
  });
  const stopActivityStream = streamActivity(activity, logs, registry);
  // Sessions live in the store: every edge of an HA set accepts them, a logout ends them on all.
  const sessions = new SqlSessionStore(store, {
    clock,
    origin: options.serverId,
    logger: log.child({ component: 'sessions' }),
  });
  const browserAccess = new BrowserAccess({
    authority: tokenAuthority,
    store: sessions,
    clock,
    logger: log.child({ component: 'browser-access' }),
    cliIdentityProvider: options.cliIdentityProvider,
    onDecision: (entry) => {
      activity.record(browserDecisionActivity(entry));
      options.onAccessDecision?.(entry);
    },
  });
  const onAudit = (record: AuditRecord): void => {
    logs.publish('audit', auditFields(record));
    options.onAudit?.(record);
  };
  const discovered = new DiscoveredApplicationRegistry({ clock });
  registry.on('added', (t) => discovered.connected(t.connectorId));
  registry.on('removed', (t) => discovered.disconnected(t.connectorId));
  const appHealth = new ApplicationHealthRegistry();
  registry.on('removed', (t) => appHealth.disconnected(t.connectorId));
  let pushConfig = (_group?: string): void => undefined;
  const runtime = new EdgeRuntime({
    store,
    dialer,
    logger: log,
    clock,
    hooks: sessionObserver(log, metrics),
    gateFor: (vs, config) => browserAccess.gateFor(vs, config),
    onApplied: (config) => {
      browserAccess.configure(config);
      if (logsLive) logs.configure(config.log_receivers ?? []);
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

  const advertiseHost =
    tunnelListen.host === '0.0.0.0' || tunnelListen.host === '::' ? hostname() : tunnelListen.host;
  const server = await ca.issueServerCertificate(
    serverNames(advertiseHost, options.advertiseAddress),
  );
  const serverId = options.serverId ?? randomServerId();
  // Filled once the edge has joined the HA set (after the tunnel port listens).
  const joined: { membership?: EdgeMembership } = {};
  const listener = new TunnelListener({
    serverId,
    edgeView: () => joined.membership?.view ?? { serverId, serverCount: 1, peers: [] },
    certPem: server.certPem,
    keyPem: server.keyPem,
    caPem: ca.certPem,
    authority: withEnrollmentLogs(authority, logs),
    registry,
    metrics,
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
  });
  pushConfig = (group) => listener.pushConfig(group);
  try {
    await runtime.reload(parts.documents ? { documents: parts.documents } : {});
    await listen(listener.server, tunnelListen);
  } catch (err) {
    await runtime.close(0);
    throw err;
  }
  const tunnelAddress = listener.server.address() as AddressInfo;
  const advertiseAddress =
    options.advertiseAddress ?? formatAddress(advertiseHost, tunnelAddress.port);
  const ha = await joinHaSet(store, {
    options,
    serverId,
    advertiseAddress,
    runtime,
    listener,
    log,
  });
  joined.membership = ha.membership;

  const konnectivity = options.konnectivity
    ? await startKonnectivityFrontend(options.konnectivity, {
        backend: tunnelBackend(registry, (tunnel, request) => dialer.dialVia(tunnel, request)),
        registry: metrics.registry,
        logger: log,
        clock,
        issueCertificate: (names) => ca.issueServerCertificate(names),
      }).catch(async (err: unknown) => {
        await ha.leave();
        await runtime.close(0);
        await listener.close(0);
        throw err;
      })
    : undefined;
  const access = options.access
    ? await startAccessProxy(options.access, {
        ca,
        tokens: tokenAuthority,
        activity,
        dialer,
        config: () => runtime.config,
        logger: log,
        clock,
      }).catch(async (err: unknown) => {
        await konnectivity?.close(0);
        await ha.leave();
        await runtime.close(0);
        await listener.close(0);
        throw err;
      })
    : undefined;

  appHealth.registerMetric(metrics.registry, () => runtime.config);
  metrics.registerPoolHealth(() =>
    runtime.config.pools.flatMap((p) => runtime.poolStatus(p.name) ?? []),
  );
  if (access) {
    // Non-CONNECT requests to the access listener are the CLI login pages.
    access.proxy.onHttpRequest ??= (req, res) => browserAccess.pages.handle(req, res);
    access.proxy.onAccess = (event) => {
      const group = event.connectorId && registry.get(event.connectorId)?.group;
      const learned = learnedFromAccess(event, group || undefined);
      if (learned) discovered.recordAccess(learned);
    };
  }

  let ready = false;
  const drains = new ConnectorDrains(store, registry, {
    serverId,
    clock,
    logger: log.child({ component: 'drains' }),
  });
  const api = buildAdminApi({
    store,
    adminToken,
    logger: log,
    version: options.version,
    consoleDir: options.consoleDir,
    activity,
    clock,
    onAudit,
    requireIfMatch: options.adminRequireIfMatch,
    jwks: () => tokenAuthority.jwks(),
    adminSignIn:
      options.adminSignIn &&
      new AdminSignIn({
        ...options.adminSignIn,
        pages: browserAccess.pages,
        authority: tokenAuthority,
        logger: log.child({ component: 'admin-sign-in' }),
      }),
    runtime: {
      advertiseAddress,
      serverId,
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
        publishRevoke(logs, registry, id);
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
      importStatus: () => importer?.status(),
      discoveredApplications: () => discovered.listAll(),
      applicationHealth: (name) => {
        const app = runtime.config.applications?.find((a) => a.name === name);
        return app && appHealth.view(app);
      },
      metrics: async () => ({
        contentType: metrics.registry.contentType,
        body: await metrics.registry.metrics(),
      }),
      ready: () => ready,
    },
  });
  try {
    await api.listen({ host: adminListen.host, port: adminListen.port });
  } catch (err) {
    await access?.proxy.close();
    await konnectivity?.close(0);
    await ha.leave();
    await runtime.close(0);
    await listener.close(0);
    throw edgeErrors.listenFailed('admin API', `${adminListen.host}:${adminListen.port}`, err);
  }
  const autoDelete = new ConnectorAutoDelete({
    store,
    clock,
    logger: log,
    connected: () => registry.list().map((t) => t.connectorId),
    audit: new AuditLog({ store, logger: log, onAudit }),
    intervalMs: options.autoDeleteIntervalMs,
  });
  autoDelete.start();
  await drains.start();
  const adminAddr = api.server.address() as AddressInfo;
  const adminUrl = `http://${formatAddress(adminAddr.address, adminAddr.port)}`;
  await writeAdminUrl(options.dataDir, adminUrl);
  logsLive = true;
  logs.configure(runtime.config.log_receivers ?? []);
  ready = true;
  log.info(
    {
      tunnel: `${tunnelAddress.address}:${tunnelAddress.port}`,
      admin: `${adminAddr.address}:${adminAddr.port}`,
      advertise: advertiseAddress,
      ...(access ? { access: access.url } : {}),
    },
    'edge started',
  );

  return {
    tunnelAddress,
    adminUrl,
    adminToken,
    advertiseAddress,
    store,
    registry,
    runtime,
    metrics,
    importer,
    konnectivity,
    pushConfig: () => listener.pushConfig(),
    serverId,
    membership: ha.membership,
    logs,
    tokenAuthority,
    browserAccess,
    activity,
    accessProxy: access?.proxy,
    accessUrl: access?.url,
    autoDelete,
    async close() {
      ready = false;
      await autoDelete.stop();
      await drains.stop();
      await importer?.stop();
      // Leave the HA set and send go-away first, so connectors move before sessions drain.
      await ha.leave();
      void listener.goAway();
      await konnectivity?.close(2000);
      await access?.proxy.close();
      await runtime.close(2000);
      browserAccess.close();
      sessions.close();
      await listener.close(2000);
      // After the tunnels closed, so their tunnel_down records are delivered too.
      stopConnectorLogs();
      stopActivityStream();
      await logs.close({ flushTimeoutMs: 2000 });
      await api.close();
      await store.close();
    },
  };
}

/**
 * Takes this edge's lease in the HA set (pushing set changes to connectors) and follows
 * configuration changed through other edges. On failure the runtime and listener are closed.
 */
async function joinHaSet(
  store: Store,
  parts: {
    options: EdgeOptions;
    serverId: string;
    advertiseAddress: string;
    runtime: EdgeRuntime;
    listener: TunnelListener;
    log: Logger;
  },
): Promise<{ membership: EdgeMembership; watcher: ConfigWatcher; leave(): Promise<void> }> {
  const { options, serverId, runtime, listener, log } = parts;
  const clock = options.clock ?? systemClock;
  const membership = new EdgeMembership(store, {
    serverId,
    address: parts.advertiseAddress,
    leaseTtlMs: options.leaseTtlMs,
    clock,
    logger: log,
  });
  membership.on('change', (view) => listener.pushEdges(view));
  const watcher = new ConfigWatcher(store, {
    serverId,
    reload: async () => {
      await runtime.reload();
      listener.pushConfig();
    },
    disconnect: (id) => listener.revoke(id),
    pollMs: options.configPollMs,
    clock,
    logger: log,
  });
  try {
    await membership.start();
    await watcher.start();
  } catch (err) {
    await watcher.stop();
    await membership.stop();
    await runtime.close(0);
    await listener.close(0);
    throw err;
  }
  return {
    membership,
    watcher,
    leave: async () => {
      await watcher.stop();
      await membership.stop();
    },
  };
}

function parseListen(text: string, flag: string): { host: string; port: number } {
  const hp = splitHostPort(text, { allowZero: true });
  if (!hp)
    throw new PosternError(
      'POSTERN_ERR_INVALID_ARGUMENT',
      `${flag} "${text}" is not host:port; use e.g. 0.0.0.0:8443 or [::]:8443.`,
    );
  return hp;
}

function formatAddress(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function serverNames(host: string, advertise: string | undefined) {
  const hosts = new Set(['localhost', host, hostname()]);
  const advertised = advertise ? splitHostPort(advertise)?.host : undefined;
  if (advertised) hosts.add(advertised);
  const dnsNames = [...hosts].filter((h) => !net.isIP(h));
  const ipAddresses = [
    ...new Set([
      '127.0.0.1',
      '::1',
      ...[...hosts].filter((h) => net.isIP(h) && h !== '0.0.0.0' && h !== '::'),
    ]),
  ];
  return { dnsNames, ipAddresses };
}

function listen(server: net.Server, at: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(edgeErrors.listenFailed('tunnel port', `${at.host}:${at.port}`, err));
    server.once('error', onError);
    server.listen({ host: at.host, port: at.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
