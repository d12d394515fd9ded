import { hostname } from 'node:os';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import {
  ConfigImporter,
  EnrollmentService,
  buildAdminApi,
  syncDocumentGroups,
} from '../control/index.js';
import type { Configuration } from '../config/index.js';
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
  writeAdminUrl,
} from './edge-files.js';
import { TunnelDialer } from './tunnel-dialer.js';
import { TunnelListener } from './tunnel-listener.js';
import { logPoolEvent, sessionObserver } from './session-observer.js';

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
  readonly adminToken?: string | undefined;
  readonly serverId?: string;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly certificateValidityMs?: number;
  readonly keepAliveIntervalMs?: number;
  readonly keepAliveTimeoutMs?: number;
  /** Bound on a tunnel's TLS handshake, control stream and hello; default 10 s. */
  readonly tunnelHandshakeTimeoutMs?: number;
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
  let pushConfig = (_group?: string): void => undefined;
  const runtime = new EdgeRuntime({
    store,
    dialer,
    logger: log,
    clock,
    hooks: sessionObserver(log, metrics),
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
  const listener = new TunnelListener({
    serverId: options.serverId ?? `edge-${hostname()}`,
    certPem: server.certPem,
    keyPem: server.keyPem,
    caPem: ca.certPem,
    authority,
    registry,
    metrics,
    logger: log,
    configFor: (group) => runtime.configFor(group),
    onReport: (reporter, report) => runtime.applyReport(reporter, report),
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

  let ready = false;
  const api = buildAdminApi({
    store,
    adminToken,
    logger: log,
    version: options.version,
    runtime: {
      advertiseAddress,
      connected: () =>
        registry.list().map((t) => ({
          connectorId: t.connectorId,
          draining: t.draining,
          activeSessions: t.activeSessions,
          remoteAddress: t.remoteAddress,
        })),
      disconnect: (id) => listener.revoke(id),
      reload: async () => {
        await runtime.reload();
        listener.pushConfig();
      },
      ownerOf: (kind, name) => runtime.ownerOf(kind, name),
      documentObjects: (kind) => runtime.documentObjects(kind),
      poolStatus: (name) => runtime.poolStatus(name),
      importStatus: () => importer?.status(),
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
    await runtime.close(0);
    await listener.close(0);
    throw edgeErrors.listenFailed('admin API', `${adminListen.host}:${adminListen.port}`, err);
  }
  const adminAddr = api.server.address() as AddressInfo;
  const adminUrl = `http://${formatAddress(adminAddr.address, adminAddr.port)}`;
  await writeAdminUrl(options.dataDir, adminUrl);
  ready = true;
  log.info(
    {
      tunnel: `${tunnelAddress.address}:${tunnelAddress.port}`,
      admin: `${adminAddr.address}:${adminAddr.port}`,
      advertise: advertiseAddress,
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
    pushConfig: () => listener.pushConfig(),
    async close() {
      ready = false;
      await importer?.stop();
      await runtime.close(2000);
      await listener.close(2000);
      await api.close();
      await store.close();
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
