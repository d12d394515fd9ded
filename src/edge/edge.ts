import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import {
  ConfigImporter,
  listenProblem,
  syncDocumentGroups,
  type ActivityLog,
  type BrowserAccess,
  type ConnectorAutoDelete,
  type LogStreamingService,
  type UserTokenAuthority,
} from '../control/index.js';
import { formatProblems, type Configuration } from '../config/index.js';
import { systemClock } from '../core/index.js';
import type { Store } from '../store/index.js';
import type { AccessProxy } from './access-proxy.js';
import type { KonnectivityFrontend } from './konnectivity/index.js';
import type { EdgeMembership } from './edge-membership.js';
import type { EdgeRuntime } from './edge-runtime.js';
import { ConnectorRegistry } from './connector-registry.js';
import { EdgeMetrics } from './edge-metrics.js';
import { ensureDataDir, loadOrCreateAdminToken, loadOrCreateCa } from './edge-files.js';
import { Closer } from './edge-closer.js';
import type { EdgeOptions } from './edge-options.js';
import { startParts, type Running } from './edge-parts.js';
import { closeInDrainOrder } from './edge-shutdown.js';
import { edgeErrors } from './errors.js';

// The edge is composed of parts, each in its own file, started in this order (edge-parts.ts):
//   observability (activity log, log streaming)  edge-observability.ts
//   identity (user tokens, browser access)        edge-identity.ts
//   tunnels (runtime, tunnel port, reports)       edge-tunnels.ts
//   HA set (lease, configuration watcher)         edge-ha.ts
//   frontends (Konnectivity, access proxy)        edge-frontends.ts
//   admin API (with the console)                  edge-admin.ts
//   connector drains and auto-delete
// A failed start closes what was opened in reverse order (edge-closer.ts); a running edge
// closes in drain order instead (edge-shutdown.ts). Its options are in edge-options.ts.

/** Default bound on requests and sessions finishing when an edge closes. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

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
